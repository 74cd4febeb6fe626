#include "nibble/sim/hardware.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/yaml_file.h"

namespace nibble {
namespace {

using json = nlohmann::json;

// One row of the schema: the public description plus how to read and write the member.
struct KeyBinding {
  HardwareKey key;
  double (*get)(const HardwareConfig&);
  void (*set)(HardwareConfig&, double);
};

constexpr double kKib = 1024;
constexpr double kMaxBufferKib = 4.0 * 1024 * 1024;  // 4 GiB

std::int64_t kib_to_bytes(double kib) { return static_cast<std::int64_t>(std::llround(kib * kKib)); }

#define NIBBLE_MEMBER(member) \
  [](const HardwareConfig& h) { return static_cast<double>(h.member); }, \
  [](HardwareConfig& h, double v) { h.member = static_cast<decltype(h.member)>(v); }
#define NIBBLE_KIB_MEMBER(member) \
  [](const HardwareConfig& h) { return static_cast<double>(h.member) / kKib; }, \
  [](HardwareConfig& h, double v) { h.member = kib_to_bytes(v); }

const std::vector<KeyBinding>& bindings() {
  using K = KeyKind;
  static const std::vector<KeyBinding> all = {
      {{"clock_ghz", K::kReal, 1e-3, 100, "GHz", "clock of the array, buffers and DRAM interface"},
       NIBBLE_MEMBER(clock_ghz)},
      {{"array.rows", K::kInteger, 1, 65536, "DPUs", "R: DPU rows, along M"}, NIBBLE_MEMBER(rows)},
      {{"array.cols", K::kInteger, 1, 65536, "DPUs", "C: DPU columns, along N"}, NIBBLE_MEMBER(cols)},
      {{"dpu.format", K::kFormat, 0, 0, "", "the format the DPUs are built for (operands default "
                                            "to it, others are refused); empty: any"},
       nullptr, nullptr},
      {{"dpu.lanes", K::kInteger, 0, 4096, "element pairs/cycle",
        "element pairs a DPU multiplies per cycle; 0: a whole block"},
       NIBBLE_MEMBER(dpu_lanes)},
      {{"dpu.initiation_interval", K::kInteger, 1, 1024, "cycles",
        "cycles between two block-pair issues at full lanes"},
       NIBBLE_MEMBER(dpu_initiation_interval)},
      {{"dpu.latency", K::kInteger, 0, 1e6, "cycles", "pipeline latency from a block pair to its accumulation"},
       NIBBLE_MEMBER(dpu_latency)},
      {{"dpu.clear_cycles", K::kInteger, 0, 1e6, "cycles",
        "idle cycles between two tiles to clear (or reload) the accumulators"},
       NIBBLE_MEMBER(dpu_clear_cycles)},
      {{"buffers.a_kib", K::kReal, 1 / kKib, kMaxBufferKib, "KiB", "activation SRAM (two halves, double-buffered)"},
       NIBBLE_KIB_MEMBER(a_buffer_bytes)},
      {{"buffers.w_kib", K::kReal, 1 / kKib, kMaxBufferKib, "KiB", "weight / KV-cache SRAM (two halves)"},
       NIBBLE_KIB_MEMBER(w_buffer_bytes)},
      {{"buffers.o_kib", K::kReal, 1 / kKib, kMaxBufferKib, "KiB",
        "output SRAM: FP32 results and K-split partial sums (two halves)"},
       NIBBLE_KIB_MEMBER(o_buffer_bytes)},
      {{"buffers.a_banks", K::kInteger, 0, 65536, "banks", "activation SRAM read banks; 0: as wide as needed"},
       NIBBLE_MEMBER(a_banks)},
      {{"buffers.a_bank_bytes", K::kInteger, 0, 65536, "B/cycle", "bytes per activation bank and cycle"},
       NIBBLE_MEMBER(a_bank_bytes)},
      {{"buffers.w_banks", K::kInteger, 0, 65536, "banks", "weight SRAM read banks; 0: as wide as needed"},
       NIBBLE_MEMBER(w_banks)},
      {{"buffers.w_bank_bytes", K::kInteger, 0, 65536, "B/cycle", "bytes per weight bank and cycle"},
       NIBBLE_MEMBER(w_bank_bytes)},
      {{"dram.bytes_per_cycle", K::kReal, 1e-3, 1e6, "B/cycle", "DRAM channel bandwidth"},
       NIBBLE_MEMBER(dram_bytes_per_cycle)},
      {{"dram.latency", K::kInteger, 0, 1e7, "cycles", "cycles from a request to its first byte"},
       NIBBLE_MEMBER(dram_latency)},
      {{"vector.elements_per_cycle", K::kReal, 1e-3, 1e6, "elements/cycle",
        "vector unit throughput for norms, RoPE, softmax and SiLU"},
       NIBBLE_MEMBER(vector_elements_per_cycle)},
  };
  return all;
}

#undef NIBBLE_MEMBER
#undef NIBBLE_KIB_MEMBER

const KeyBinding& binding(const std::string& path) {
  for (const KeyBinding& b : bindings()) {
    if (b.key.path == path) return b;
  }
  std::string valid;
  for (const KeyBinding& b : bindings()) valid += (valid.empty() ? "" : ", ") + b.key.path;
  throw Error("unknown hardware key '" + path + "' (valid: " + valid + ")");
}

// The shortest text that reads back as v.
std::string number_text(double v) {
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, v);
  return std::string(text, ec == std::errc() ? end : text);
}

void set_number(HardwareConfig& hw, const KeyBinding& b, double v) {
  const HardwareKey& key = b.key;
  if (!(v >= key.min && v <= key.max)) {  // NaN fails both
    throw Error("hardware key '" + key.path + "': " + number_text(v) + " is outside [" +
                number_text(key.min) + ", " + number_text(key.max) + "]" +
                (key.unit.empty() ? "" : " " + key.unit));
  }
  if (key.kind == KeyKind::kInteger && v != std::floor(v)) {
    throw Error("hardware key '" + key.path + "': " + number_text(v) + " is not an integer");
  }
  if (key.unit == "KiB" && v * kKib != std::floor(v * kKib)) {
    throw Error("hardware key '" + key.path + "': " + number_text(v) + " KiB is not a whole number of bytes");
  }
  b.set(hw, v);
}

}  // namespace

const std::vector<HardwareKey>& hardware_keys() {
  static const std::vector<HardwareKey> keys = [] {
    std::vector<HardwareKey> k;
    for (const KeyBinding& b : bindings()) k.push_back(b.key);
    return k;
  }();
  return keys;
}

const HardwareKey& hardware_key(const std::string& path) { return binding(path).key; }

void set_hardware_key(HardwareConfig& hw, const std::string& path, const json& value) {
  const KeyBinding& b = binding(path);
  if (b.key.kind == KeyKind::kFormat) {
    if (!value.is_string()) throw Error("hardware key '" + path + "' must be a format name");
    const std::string name = value.get<std::string>();
    try {
      hw.dpu_format = name.empty() ? "" : make_format(name)->info().name;
    } catch (const Error& e) {
      throw Error("hardware key '" + path + "': " + e.what());
    }
    return;
  }
  if (!value.is_number() || value.is_boolean()) {
    throw Error("hardware key '" + path + "' must be a number, not " + value.dump());
  }
  set_number(hw, b, value.get<double>());
}

json hardware_value(const HardwareConfig& hw, const std::string& path) {
  const KeyBinding& b = binding(path);
  if (b.key.kind == KeyKind::kFormat) return hw.dpu_format;
  const double v = b.get(hw);
  if (b.key.kind == KeyKind::kInteger) return static_cast<std::int64_t>(v);
  return v;
}

json hardware_to_json(const HardwareConfig& hw) {
  json out = json::object();
  for (const HardwareKey& key : hardware_keys()) {
    std::string pointer = "/" + key.path;  // "array.rows" nests as /array/rows
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    out[json::json_pointer(pointer)] = hardware_value(hw, key.path);
  }
  return out;
}

HardwareConfig hardware_from_json(const json& in) {
  HardwareConfig hw;
  const std::function<void(const json&, const std::string&)> walk = [&](const json& node,
                                                                       const std::string& prefix) {
    if (!node.is_object()) throw Error("hardware: '" + prefix + "' must be a map");
    for (const auto& [name, value] : node.items()) {
      const std::string path = prefix.empty() ? name : prefix + "." + name;
      if (value.is_object()) {
        walk(value, path);
      } else {
        set_hardware_key(hw, path, value);
      }
    }
  };
  walk(in, "");
  return hw;
}

namespace {

[[noreturn]] void fail_at(const std::string& path, const YAML::Mark& mark, const std::string& what) {
  throw Error(path + ":" + std::to_string(mark.line + 1) + ": " + what);
}

json scalar_json(const std::string& file, const std::string& key, const YAML::Node& node) {
  if (!node.IsScalar()) fail_at(file, node.Mark(), "'" + key + "' must be a value");
  const std::string text = node.Scalar();
  if (hardware_key(key).kind == KeyKind::kFormat) return text;
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail_at(file, node.Mark(), "'" + key + "' is not a number: '" + text + "'");
}

// Walks a YAML map, setting every leaf by its dotted path; unknown and duplicate keys fail.
void read_map(const std::string& file, const YAML::Node& map, const std::string& prefix, HardwareConfig& hw) {
  if (!map.IsMap()) fail_at(file, map.Mark(), (prefix.empty() ? "the hardware file" : "'" + prefix + "'") +
                                                  " must be a map");
  std::set<std::string> seen;
  for (const auto& item : map) {
    if (!item.first.IsScalar()) fail_at(file, item.first.Mark(), "a key must be a name");
    const std::string name = item.first.Scalar();
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (!seen.insert(name).second) fail_at(file, item.first.Mark(), "duplicate key '" + path + "'");
    bool is_group = false;
    for (const HardwareKey& key : hardware_keys()) is_group |= key.path.rfind(path + ".", 0) == 0;
    try {
      if (is_group) {
        read_map(file, item.second, path, hw);
      } else {
        set_hardware_key(hw, path, scalar_json(file, path, item.second));
      }
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.rfind(file + ":", 0) == 0) throw;
      fail_at(file, item.first.Mark(), what);
    }
  }
}

}  // namespace

HardwareConfig load_hardware(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  HardwareConfig hw;
  read_map(path, root, "", hw);
  return hw;
}

}  // namespace nibble

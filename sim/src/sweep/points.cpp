// Points of a sweep: enumeration, canonical JSON, ids and shards.
#include <openssl/evp.h>

#include <cstdio>

#include "design_keys.h"
#include "nibble/models/block_format.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/sim/sweep.h"

namespace nibble {
namespace {

bool is_role(const std::string& role) {
  for (const char* r : kFormatRoles) {
    if (role == r) return true;
  }
  return false;
}

void set_format(nlohmann::json& design, const std::string& role, const nlohmann::json& value) {
  if (!value.is_string()) throw Error("formats." + role + " must be a format name");
  if (role == "kv" && value.get<std::string>().empty()) {
    design["formats"]["kv"] = "";  // the activation format, filled in by resolve_formats
    return;
  }
  try {
    design["formats"][role] = make_format(value.get<std::string>())->info().name;
  } catch (const Error& e) {
    throw Error("formats." + role + ": " + e.what());
  }
}

// An empty KV format follows the activation format (the KV cache is attention's operand
// next to activations, and the two must share a K-block).
void resolve_formats(nlohmann::json& design) {
  nlohmann::json& formats = design["formats"];
  if (formats.at("kv") == "") formats["kv"] = formats.at("a");
}

}  // namespace

void apply_design_key(const DesignSpace& space, nlohmann::json& design, const std::string& key,
                      const nlohmann::json& value) {
  if (key == "formats") {
    if (!value.is_object() || value.empty()) throw Error("a formats value must be a map of roles (w, a, kv)");
    for (const auto& [role, format] : value.items()) {
      if (!is_role(role)) throw Error("unknown format role '" + role + "' (valid: w, a, kv)");
      set_format(design, role, format);
    }
  } else if (key.rfind("formats.", 0) == 0) {
    const std::string role = key.substr(8);
    if (!is_role(role)) throw Error("unknown format role '" + role + "' (valid: w, a, kv)");
    set_format(design, role, value);
  } else if (key.rfind("workload.", 0) == 0) {
    space.set_workload(design["workload"], key.substr(9), value);
  } else {
    space.set_hardware(design["hardware"], key, value);
  }
}

nlohmann::json design_value(const nlohmann::json& design, const std::string& key) {
  std::string pointer = "/";
  if (key.rfind("formats.", 0) != 0 && key.rfind("workload.", 0) != 0) pointer += "hardware/";
  for (const char c : key) pointer += c == '.' ? '/' : c;
  const nlohmann::json::json_pointer at(pointer);
  return design.contains(at) ? design.at(at) : nlohmann::json();
}

std::string canonical_json(const nlohmann::json& value) {
  return value.dump();  // nlohmann's objects are std::maps: keys come out sorted
}

std::string point_id(const nlohmann::json& design) {
  const std::string text = canonical_json(design) + "\n" + nibble_version();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error("SHA-256 failed (OpenSSL)");
  }
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

bool in_shard(const std::string& id, int shard, int shards) {
  return std::stoull(id.substr(0, 16), nullptr, 16) % static_cast<unsigned>(shards) ==
         static_cast<unsigned>(shard);
}

std::vector<SweepPoint> expand_points(const SweepSpec& spec, const DesignSpace& space) {
  std::vector<SweepPoint> points;
  std::vector<size_t> at(spec.dimensions.size(), 0);  // an odometer, the last dimension fastest
  for (std::int64_t index = 0;; ++index) {
    nlohmann::json design = spec.base;
    for (size_t d = 0; d < spec.dimensions.size(); ++d) {
      for (const size_t axis : spec.dimensions[d]) {
        apply_design_key(space, design, spec.axes[axis].key, spec.axes[axis].values[at[d]]);
      }
    }
    resolve_formats(design);
    bool excluded = false;
    for (const nlohmann::json& rule : spec.excludes) {
      bool all = true;
      for (const auto& [key, value] : rule.items()) all = all && design_value(design, key) == value;
      excluded = excluded || all;
    }
    if (!excluded) {
      std::string id = point_id(design);
      points.push_back({index, std::move(id), std::move(design)});
    }
    size_t d = spec.dimensions.size();
    while (d > 0 && ++at[d - 1] == spec.axes[spec.dimensions[d - 1][0]].values.size()) at[--d] = 0;
    if (d == 0) break;
  }
  return points;
}

}  // namespace nibble

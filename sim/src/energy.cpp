#include "nibble/sim/energy.h"

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "nibble/models/error.h"
#include "nibble/workloads/yaml_file.h"

namespace nibble {

namespace {

// The gates of Yosys' internal library (synth's output), by the names the table uses.
const std::set<std::string> kGates = {"NOT", "AND", "NAND", "OR", "NOR", "XOR", "XNOR", "ANDNOT", "ORNOT",
                                      "MUX", "AOI3", "OAI3", "AOI4", "OAI4", "DFF"};

}  // namespace

double EnergyTable::toggle_fj(const std::string& cell) const {
  // "$_XOR_" -> XOR; every flip-flop ($_DFF_P_, $_SDFFE_PP0P_, ...) -> DFF.
  std::string gate = cell.find("DFF") != std::string::npos ? "DFF" : cell;
  if (gate != "DFF" && gate.size() > 3 && gate.rfind("$_", 0) == 0 && gate.back() == '_') {
    gate = gate.substr(2, gate.size() - 3);
  }
  const auto it = gate_toggle_fj.find(gate);
  if (it == gate_toggle_fj.end()) {
    throw Error("the energy table has no gate_toggle_fj entry for cell " + cell + " (" + source + ")");
  }
  return it->second;
}

double EnergyTable::sram_pj_per_byte(std::int64_t bytes) const {
  const double kib = static_cast<double>(bytes) / 1024;
  const auto& t = sram_read_pj_per_byte;
  if (kib <= t.front().first) return t.front().second;
  if (kib >= t.back().first) return t.back().second;
  for (size_t i = 1; i < t.size(); ++i) {
    if (kib <= t[i].first) {
      const double f = std::log(kib / t[i - 1].first) / std::log(t[i].first / t[i - 1].first);
      return t[i - 1].second + f * (t[i].second - t[i - 1].second);
    }
  }
  return t.back().second;
}

EnergyTable load_energy(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  EnergyTable t;
  const auto number = [&](const YAML::Node& node, const std::string& key) {
    if (!node) throw Error(path + ": missing '" + key + "'");
    try {
      const double v = node.IsScalar() ? node.as<double>() : 0;
      if (!(v > 0) || !std::isfinite(v)) throw Error("");
      return v;
    } catch (const std::exception&) {
      throw Error(path + ":" + std::to_string(node.Mark().line + 1) + ": '" + key +
                  "' must be a positive finite number");
    }
  };
  if (!root.IsMap()) throw Error(path + ": expected a map of energies");
  const std::set<std::string> known = {"source", "int8_mac_pj", "fp32_add_pj", "sram_read_pj_per_byte",
                                       "dram_pj_per_byte", "vector_pj_per_element", "nand2_um2",
                                       "sram_um2_per_bit", "gate_toggle_fj", "flip_flop_clock_fj"};
  std::set<std::string> seen;
  for (const auto& item : root) {
    const std::string at = path + ":" + std::to_string(item.first.Mark().line + 1) + ": ";
    if (!item.first.IsScalar()) throw Error(at + "a key must be a name");
    const std::string key = item.first.Scalar();
    if (!known.count(key)) {
      std::string valid;
      for (const auto& k : known) valid += (valid.empty() ? "" : ", ") + k;
      throw Error(at + "unknown key '" + key + "' (valid: " + valid + ")");
    }
    if (!seen.insert(key).second) throw Error(at + "duplicate key '" + key + "'");
  }
  if (root["source"] && !root["source"].IsScalar()) {
    throw Error(path + ":" + std::to_string(root["source"].Mark().line + 1) + ": 'source' must be a text");
  }
  t.source = root["source"] ? root["source"].Scalar() : "";
  if (t.source.empty()) throw Error(path + ": missing 'source' (cite where the energies come from)");
  t.int8_mac_pj = number(root["int8_mac_pj"], "int8_mac_pj");
  t.fp32_add_pj = number(root["fp32_add_pj"], "fp32_add_pj");
  t.dram_pj_per_byte = number(root["dram_pj_per_byte"], "dram_pj_per_byte");
  t.vector_pj_per_element = number(root["vector_pj_per_element"], "vector_pj_per_element");
  t.nand2_um2 = number(root["nand2_um2"], "nand2_um2");
  t.sram_um2_per_bit = number(root["sram_um2_per_bit"], "sram_um2_per_bit");
  // The gate energies are optional: without them DPU energy keeps the area-scaled estimate.
  if (const YAML::Node gates = root["gate_toggle_fj"]) {
    if (!gates.IsMap()) {
      throw Error(path + ":" + std::to_string(gates.Mark().line + 1) + ": 'gate_toggle_fj' must be a map of gate: fJ");
    }
    for (const auto& item : gates) {
      const std::string at = path + ":" + std::to_string(item.first.Mark().line + 1) + ": ";
      const std::string gate = item.first.IsScalar() ? item.first.Scalar() : "";
      if (!kGates.count(gate)) {
        std::string valid;
        for (const auto& g : kGates) valid += (valid.empty() ? "" : ", ") + g;
        throw Error(at + "unknown gate '" + gate + "' in gate_toggle_fj (valid: " + valid + ")");
      }
      if (t.gate_toggle_fj.count(gate)) throw Error(at + "duplicate gate '" + gate + "'");
      t.gate_toggle_fj[gate] = number(item.second, "gate_toggle_fj." + gate);
    }
    t.flip_flop_clock_fj = number(root["flip_flop_clock_fj"], "flip_flop_clock_fj");
  } else if (root["flip_flop_clock_fj"]) {
    throw Error(path + ": 'flip_flop_clock_fj' needs 'gate_toggle_fj'");
  }
  const YAML::Node sram = root["sram_read_pj_per_byte"];
  if (!sram || !sram.IsSequence() || sram.size() == 0) {
    throw Error(path + ": 'sram_read_pj_per_byte' must be a list of {kib, pj}");
  }
  for (const auto& entry : sram) {
    if (!entry.IsMap()) {
      throw Error(path + ":" + std::to_string(entry.Mark().line + 1) + ": each SRAM entry must be {kib, pj}");
    }
    t.sram_read_pj_per_byte.emplace_back(number(entry["kib"], "kib"), number(entry["pj"], "pj"));
    if (t.sram_read_pj_per_byte.size() > 1 &&
        t.sram_read_pj_per_byte.back().first <= t.sram_read_pj_per_byte.end()[-2].first) {
      throw Error(path + ":" + std::to_string(entry.Mark().line + 1) + ": SRAM sizes must increase");
    }
  }
  return t;
}

namespace {

// A count in a JSON table: an integer in [0, limit]; a float there (1e30, say) would convert
// out of range.
std::int64_t table_count(const nlohmann::json& value, const std::string& path, std::int64_t limit) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > limit) {
    throw Error(path + ": a count must be an integer in 0.." + std::to_string(limit) + " (got " + value.dump() + ")");
  }
  return value.get<std::int64_t>();
}

}  // namespace

AreaTable load_area(const std::string& path) {
  AreaTable table;
  if (path.empty()) return table;
  std::ifstream in(path);
  if (!in) return table;
  try {
    const nlohmann::json doc = nlohmann::json::parse(in);
    for (const auto& [name, entry] : doc.at("units").items()) {
      table.units.push_back({name, static_cast<int>(table_count(entry.at("lanes"), path, 1 << 20)), entry.at("nand2_eq_per_lane").get<double>()});
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed area data (" + e.what() + ")");
  }
  return table;
}

ActivityTable load_activity(const std::string& path) {
  ActivityTable table;
  if (path.empty()) return table;
  std::ifstream in(path);
  if (!in) return table;
  try {
    const nlohmann::json doc = nlohmann::json::parse(in);
    for (const auto& [unit, sources] : doc.at("units").items()) {
      for (const auto& [operands, entry] : sources.items()) {
        Activity a{unit, operands, entry.at("cycles_per_op").get<double>(), {}, {}};
        for (const auto& [cell, figures] : entry.at("cells").items()) {
          a.toggles_per_op[cell] = figures.at("toggles_per_op").get<double>();
          a.cells[cell] = table_count(figures.at("count"), path, std::int64_t{1} << 40);
        }
        table.entries.push_back(std::move(a));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed activity data (" + e.what() + ")");
  }
  return table;
}

double block_op_pj(const EnergyTable& table, const Activity& activity) {
  double fj = 0;
  for (const auto& [cell, toggles] : activity.toggles_per_op) fj += toggles * table.toggle_fj(cell);
  for (const auto& [cell, count] : activity.cells) {
    if (cell.find("DFF") != std::string::npos) {
      fj += static_cast<double>(count) * table.flip_flop_clock_fj * activity.cycles_per_op;
    }
  }
  return fj * 1e-3;
}

const Activity* find_activity(const ActivityTable& activity, const std::string& a, const std::string& w) {
  const std::string suffix = ":a=" + a + ":b=" + w;
  const auto rank = [](const std::string& operands) {
    if (operands.rfind("lm:", 0) == 0) return 0;
    return operands == "llm-act" ? 1 : operands == "llm-weight" ? 2 : 3;
  };
  const Activity* best = nullptr;
  int best_score = 0;
  for (const Activity& e : activity.entries) {
    const std::string& name = e.unit;
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0 ||
        name.find(':') != name.size() - suffix.size()) {
      continue;
    }
    const int score = rank(e.operands);
    if (!best || score < best_score) {
      best = &e;
      best_score = score;
    }
  }
  return best;
}

namespace {

// NAND2 equivalents per lane of the unit for (a, w) and of the mxint8 reference unit; {0, 0}
// when either is missing. The unit is found by its formats, preferring the configuration with
// `lanes` lanes; the reference has the unit's lane count where synthesized, else 32.
std::pair<double, double> area_per_lane(const AreaTable& area, const std::string& a, const std::string& w,
                                        int lanes, std::string& unit) {
  double found = 0;
  int found_lanes = 0;
  std::map<int, double> reference;  // mxint8 NAND2 per lane by lane count
  const std::string suffix = ":a=" + a + ":b=" + w;
  for (const AreaTable::Unit& entry : area.units) {
    const std::string& name = entry.name;
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        name.find(':') == name.size() - suffix.size() && (found == 0 || entry.lanes == lanes)) {
      found = entry.nand2_per_lane;
      found_lanes = entry.lanes;
      unit = name;
    }
    if (name.rfind("dpu_mx:a=mxint8:", 0) == 0 && name.find(":b=mxint8", 0) != std::string::npos) {
      reference[entry.lanes] = entry.nand2_per_lane;
    }
  }
  const auto ref = reference.count(found_lanes) ? reference.find(found_lanes) : reference.find(32);
  return {found, ref == reference.end() ? 0.0 : ref->second};
}

// Size of one lane of the (a, w) unit relative to the mxint8 unit's lane (by area.json, or by
// element bits when the pair has no entry), and that reference's NAND2 per lane (0: unknown).
struct LaneSize {
  double relative = 0, reference_nand2 = 0;
  std::string basis;
};

LaneSize lane_size(const BlockFormat& a, const BlockFormat& w, const AreaTable& area, int lanes) {
  std::string unit;
  const auto [unit_area, reference_area] = area_per_lane(area, a.info().name, w.info().name, lanes, unit);
  if (unit_area > 0 && reference_area > 0) return {unit_area / reference_area, reference_area, "area.json: " + unit};
  return {a.info().element_bits * w.info().element_bits / 64.0, reference_area, "element-bit estimate"};
}

int dpu_lanes(const HardwareConfig& hw, const BlockFormat& a) {
  return hw.dpu_lanes > 0 ? hw.dpu_lanes : a.info().block;
}

}  // namespace

EnergyBreakdown gemm_energy(const EnergyTable& table, const AreaTable& area, const ActivityTable& activity,
                            const HardwareConfig& hw, const GemmStats& stats, const BlockFormat& a,
                            const BlockFormat& w) {
  EnergyBreakdown e;
  const auto ops = static_cast<double>(stats.dpu_block_ops);
  const Activity* measured = table.gate_toggle_fj.empty() ? nullptr : find_activity(activity, a.info().name, w.info().name);
  if (measured) {  // the unit's accumulator switches in its netlist: no separate add
    e.dpu_basis = "gate-level activity: " + measured->unit + ", " + measured->operands;
    e.dpu_pj = ops * block_op_pj(table, *measured);
  } else {
    // A block operation multiplies a whole block whatever the lane count (fewer lanes take
    // more cycles for the same work).
    const int lanes = a.info().block;
    const LaneSize size = lane_size(a, w, area, dpu_lanes(hw, a));
    e.dpu_basis = size.basis;
    e.dpu_pj = ops * lanes * table.int8_mac_pj * size.relative;
    e.accumulate_pj = ops * table.fp32_add_pj;
  }
  // Results are written to the output buffer once and read out to DRAM once.
  e.sram_pj = static_cast<double>(stats.dram_a.total() + stats.sram_read_a) * table.sram_pj_per_byte(hw.a_buffer_bytes) +
              static_cast<double>(stats.dram_w.total() + stats.sram_read_w) * table.sram_pj_per_byte(hw.w_buffer_bytes) +
              2.0 * static_cast<double>(stats.dram_out_bytes) * table.sram_pj_per_byte(hw.o_buffer_bytes);
  e.dram_pj = static_cast<double>(stats.dram_a.total() + stats.dram_w.total() + stats.dram_out_bytes) *
              table.dram_pj_per_byte;
  return e;
}

DesignArea design_area(const EnergyTable& table, const AreaTable& area, const HardwareConfig& hw,
                       const BlockFormat& a, const BlockFormat& w) {
  const int lanes = dpu_lanes(hw, a);
  const LaneSize size = lane_size(a, w, area, lanes);
  DesignArea d;
  d.dpu_basis = size.reference_nand2 > 0 ? size.basis : "no area.json: DPUs not counted";
  d.dpu_um2 = static_cast<double>(hw.rows) * hw.cols * lanes * size.relative * size.reference_nand2 * table.nand2_um2;
  d.sram_um2 =
      static_cast<double>(hw.a_buffer_bytes + hw.w_buffer_bytes + hw.o_buffer_bytes) * 8 * table.sram_um2_per_bit;
  return d;
}

}  // namespace nibble

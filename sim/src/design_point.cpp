#include "nibble/sim/design_point.h"

#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>

#include "ceil_div.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"

namespace nibble {
namespace {

using json = nlohmann::json;
using FormatPtr = std::shared_ptr<const BlockFormat>;

void add(RoleBytes& total, const RoleBytes& part, double weight) {
  total.w += part.w * weight;
  total.a += part.a * weight;
  total.kv += part.kv * weight;
  total.out += part.out * weight;
}

void add(EnergyTotals& total, const EnergyTotals& part, double weight) {
  total.dpu_pj += part.dpu_pj * weight;
  total.accumulate_pj += part.accumulate_pj * weight;
  total.sram_pj += part.sram_pj * weight;
  total.dram_pj += part.dram_pj * weight;
  total.vector_pj += part.vector_pj * weight;
}

double& role_slot(RoleBytes& bytes, Role role) {
  switch (role) {
    case Role::kWeight: return bytes.w;
    case Role::kKvCache: return bytes.kv;
    case Role::kActivation: break;
  }
  return bytes.a;
}

// One GEMM instance's cost, memoized by shape and formats: layers, experts, KV heads and
// decode steps repeat the same GEMMs.
struct GemmCost {
  GemmStats stats;
  EnergyBreakdown energy;
  bool memory_bound = false;
};

class PointEvaluator {
 public:
  PointEvaluator(const HardwareConfig& hw, const Tables& tables, const std::string& mapping)
      : hw_(hw), tables_(tables), best_(mapping == "best") {
    if (mapping != "best" && mapping != "m-outer") {
      throw Error("sim: --mapping must be best or m-outer, not '" + mapping + "'");
    }
  }

  const GemmCost& gemm(const Operator& op, const FormatPtr& a, const FormatPtr& b) {
    const auto key = std::make_tuple(op.m, op.n, op.k, a.get(), b.get());
    const auto found = cache_.find(key);
    if (found != cache_.end()) return found->second;
    const Gemm g{op.name, op.m, op.n, op.k};
    GemmCost cost;
    cost.stats = best_ ? best_mapping(hw_, g, *a, *b) : simulate_gemm(hw_, g, *a, *b);
    cost.energy = gemm_energy(tables_.energy, tables_.area, tables_.activity, hw_, cost.stats, *a, *b);
    // Roofline: the array's block steps against the DRAM bytes at full bandwidth.
    const double compute = static_cast<double>(cost.stats.dpu_block_ops) *
                           static_cast<double>(cost.stats.cycles_per_block_step) / (static_cast<double>(hw_.rows) * hw_.cols);
    const double memory = static_cast<double>(cost.stats.dram_bytes()) / hw_.dram_bytes_per_cycle;
    cost.memory_bound = memory > compute;
    return cache_.emplace(key, std::move(cost)).first->second;
  }

 private:
  const HardwareConfig& hw_;
  const Tables& tables_;
  bool best_;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, const void*, const void*>, GemmCost> cache_;
};

FormatPtr role_format(const std::string& role, const std::string& name, const HardwareConfig& hw) {
  FormatPtr f;
  try {
    f = make_format(name);
  } catch (const Error& e) {
    throw Error("sim: " + role + " format: " + e.what());
  }
  if (!hw.dpu_format.empty() && f->info().name != hw.dpu_format) {
    throw Error("sim: " + role + " format " + f->info().name + " does not run on DPUs built for " + hw.dpu_format);
  }
  return f;
}

void check_pair(const BlockFormat& a, const BlockFormat& b, const char* a_role, const char* b_role) {
  if (a.info().block != b.info().block) {
    throw Error(std::string("sim: the DPUs cannot multiply ") + a_role + " " + a.info().name + " by " + b_role +
                " " + b.info().name + ": their K-blocks differ (" + std::to_string(a.info().block) + " vs " +
                std::to_string(b.info().block) + " elements)");
  }
  if (!a.supports_dot() || !b.supports_dot()) {
    throw Error(std::string("sim: the DPUs cannot multiply ") + a_role + " " + a.info().name + " by " + b_role +
                " " + b.info().name + ": " + (a.supports_dot() ? b.info().name : a.info().name) +
                " has no single scale product per block");
  }
}

double to_ms(const HardwareConfig& hw, double cycles) { return cycles / (hw.clock_ghz * 1e6); }

}  // namespace

Tables load_tables(const std::string& energy_path, const std::string& area_path, const std::string& activity_path) {
  return {load_energy(energy_path), load_area(area_path), load_activity(activity_path)};
}

const Tables& default_tables() {
  static const Tables tables =
      load_tables(NIBBLE_SOURCE_DIR "/sim/configs/energy_45nm.yaml", NIBBLE_SOURCE_DIR "/rtl/area/area.json",
                  NIBBLE_SOURCE_DIR "/rtl/gate/activity.json");
  return tables;
}

PointResult evaluate_point(const HardwareConfig& hw, const WorkloadSpec& workload, const RoleFormats& formats,
                           const Tables& tables, const std::string& mapping) {
  PointResult r;
  r.hardware = hw;
  r.workload = workload;
  r.mapping = mapping;
  const std::string kv_name = formats.kv.empty() ? formats.a : formats.kv;
  const FormatPtr w = role_format("weight", formats.w, hw), a = role_format("activation", formats.a, hw),
                  kv = role_format("KV-cache", kv_name, hw);
  check_pair(*a, *w, "activation", "weight");
  check_pair(*a, *kv, "activation", "KV-cache");
  r.formats = {w->info().name, a->info().name, kv->info().name};
  const ExpandedWorkload expanded = expand_workload(workload);
  r.model = expanded.model;

  PointEvaluator evaluator(hw, tables, mapping);
  std::map<std::pair<std::string, std::string>, size_t> operator_index;
  std::map<std::string, size_t> phase_index;
  double bound_memory_cycles = 0, block_ops = 0;
  for (const WorkloadStep& step : expanded.steps) {
    if (!phase_index.count(step.phase)) {
      phase_index[step.phase] = r.phases.size();
      r.phases.push_back({step.phase});
    }
    PhaseResult& phase = r.phases[phase_index[step.phase]];
    phase.steps += step.weight;
    for (const Operator& op : step.operators) {
      const auto key = std::make_pair(step.phase, op.name);
      if (!operator_index.count(key)) {
        operator_index[key] = r.operators.size();
        r.operators.push_back({step.phase, op.name});
      }
      OperatorResult& o = r.operators[operator_index[key]];
      o.op = op;
      const double instances = static_cast<double>(op.repeat) * step.weight;
      o.instances += instances;
      if (!op.is_gemm()) {
        const double cycles = std::ceil(static_cast<double>(op.elements) / hw.vector_elements_per_cycle);
        o.cycles += cycles * step.weight;
        o.compute_cycles += cycles * step.weight;
        o.bound = "compute";
        o.energy.vector_pj += static_cast<double>(op.elements) * tables.energy.vector_pj_per_element * step.weight;
        phase.cycles += cycles * step.weight;
        add(phase.energy, {0, 0, 0, 0, static_cast<double>(op.elements) * tables.energy.vector_pj_per_element},
            step.weight);
        continue;
      }
      const FormatPtr& b = op.b_role == Role::kKvCache ? kv : w;
      const GemmCost& cost = evaluator.gemm(op, a, b);
      const GemmStats& s = cost.stats;
      o.a_format = a->info().name;
      o.b_format = b->info().name;
      o.mapping = s.mapping;
      o.bound = cost.memory_bound ? "memory" : "compute";
      o.cycles += static_cast<double>(s.cycles) * instances;
      o.compute_cycles += static_cast<double>(s.compute_cycles) * instances;
      o.stall_cycles += static_cast<double>(s.stall_cycles) * instances;
      o.dpu_block_ops += static_cast<double>(s.dpu_block_ops) * instances;
      RoleBytes bytes;
      role_slot(bytes, op.a_role) += static_cast<double>(s.dram_a.total());
      role_slot(bytes, op.b_role) += static_cast<double>(s.dram_w.total());
      bytes.out = static_cast<double>(s.dram_out_bytes);
      add(o.dram, bytes, instances);
      add(phase.dram, bytes, instances);
      const EnergyTotals e{cost.energy.dpu_pj, cost.energy.accumulate_pj, cost.energy.sram_pj, cost.energy.dram_pj, 0};
      add(o.energy, e, instances);
      add(phase.energy, e, instances);
      phase.cycles += static_cast<double>(s.cycles) * instances;
      if (cost.memory_bound) bound_memory_cycles += static_cast<double>(s.cycles) * instances;
      block_ops += static_cast<double>(s.dpu_block_ops) * instances;
    }
  }
  for (OperatorResult& o : r.operators) {
    o.utilization = o.cycles > 0 ? o.dpu_block_ops / (static_cast<double>(hw.rows) * hw.cols * o.cycles) : 0;
  }
  for (PhaseResult& p : r.phases) {
    const bool prefill = p.phase == "prefill";
    p.tokens = prefill ? static_cast<double>(expanded.prefill_tokens) : static_cast<double>(expanded.decode_tokens);
    p.latency_ms = to_ms(hw, p.cycles) / (prefill ? 1 : p.steps);
    p.tokens_per_s = p.tokens / (to_ms(hw, p.cycles) * 1e-3);
    p.energy_per_token_uj = p.energy.total_pj() * 1e-6 / p.tokens;
    r.cycles += p.cycles;
    add(r.energy, p.energy, 1);
    add(r.dram, p.dram, 1);
  }
  // The tokens a point is judged by: prompts processed (prefill), tokens produced (decode,
  // request).
  const WorkloadSpec& spec = workload;
  r.tokens = spec.phase == "prefill" ? static_cast<double>(spec.batch * spec.prompt)
             : spec.phase == "decode" ? static_cast<double>(spec.batch)
                                      : static_cast<double>(spec.batch * spec.generated);
  r.latency_ms = to_ms(hw, r.cycles);
  r.tokens_per_s = r.tokens / (r.latency_ms * 1e-3);
  r.energy_per_token_uj = r.energy.total_pj() * 1e-6 / r.tokens;
  r.utilization = block_ops / (static_cast<double>(hw.rows) * hw.cols * r.cycles);
  r.bound = bound_memory_cycles * 2 > r.cycles ? "memory" : "compute";
  r.area = design_area(tables.energy, tables.area, hw, *a, *w);
  for (const WeightTensor& t : weight_tensors(r.model)) {
    r.weight_bytes += t.count * (t.rows * row_bytes(*w, t.cols).total() + codebook_bytes(*w));
  }
  const ModelConfig& m = r.model;
  const std::int64_t longest = spec.phase == "prefill" ? spec.prompt
                               : spec.phase == "decode" ? spec.context
                                                        : spec.prompt + spec.generated - 1;
  // K rows of head_dim per token; V blocked along the tokens (the context GEMM's K axis).
  const std::int64_t per_head = longest * row_bytes(*kv, m.head_dim).total() + m.head_dim * row_bytes(*kv, longest).total();
  r.kv_bytes = spec.batch * m.num_hidden_layers * m.num_key_value_heads * per_head;
  r.kv_bytes_per_token = static_cast<double>(r.kv_bytes) / static_cast<double>(spec.batch * longest);
  return r;
}

namespace {

json energy_json(const EnergyTotals& e, double scale) {
  return {{"dpu", e.dpu_pj * scale}, {"accumulate", e.accumulate_pj * scale}, {"sram", e.sram_pj * scale},
          {"dram", e.dram_pj * scale}, {"vector", e.vector_pj * scale}, {"total", e.total_pj() * scale}};
}

json bytes_json(const RoleBytes& b) {
  return {{"w", b.w}, {"a", b.a}, {"kv", b.kv}, {"out", b.out}, {"total", b.total()}};
}

void refuse_non_finite(const json& node, const std::string& where) {
  if (node.is_number_float() && !std::isfinite(node.get<double>())) {
    throw Error("sim: " + where + " is not a finite number; refusing to write it");
  }
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) refuse_non_finite(value, where + "." + key);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) refuse_non_finite(node[i], where + "[" + std::to_string(i) + "]");
  }
}

}  // namespace

json point_json(const PointResult& r) {
  json out;
  out["schema_version"] = kPointSchemaVersion;
  out["hardware"] = hardware_to_json(r.hardware);
  out["workload"] = workload_to_json(r.workload);
  out["formats"] = {{"w", r.formats.w}, {"a", r.formats.a}, {"kv", r.formats.kv}};
  out["mapping"] = r.mapping;
  out["model"] = {{"name", r.model.name}, {"parameters", r.model.parameters()}};
  json metrics = json::object();
  for (const auto& [name, value] : point_metrics(r)) metrics[name] = value;
  metrics["bound"] = r.bound;
  out["totals"] = metrics;
  out["energy_pj"] = energy_json(r.energy, 1);
  out["dram_bytes"] = bytes_json(r.dram);
  out["area_um2"] = {{"dpu", r.area.dpu_um2}, {"sram", r.area.sram_um2}, {"total", r.area.total_um2()},
                     {"dpu_basis", r.area.dpu_basis}};
  out["phases"] = json::array();
  for (const PhaseResult& p : r.phases) {
    out["phases"].push_back({{"phase", p.phase}, {"steps", p.steps}, {"tokens", p.tokens}, {"cycles", p.cycles},
                             {"latency_ms", p.latency_ms}, {"tokens_per_s", p.tokens_per_s},
                             {"energy_per_token_uj", p.energy_per_token_uj},
                             {"energy_per_token_pj", energy_json(p.energy, 1 / p.tokens)},
                             {"dram_bytes", bytes_json(p.dram)}});
  }
  out["operators"] = json::array();
  for (const OperatorResult& o : r.operators) {
    json op = {{"phase", o.phase}, {"name", o.name}, {"instances", o.instances}, {"cycles", o.cycles},
               {"compute_cycles", o.compute_cycles}, {"stall_cycles", o.stall_cycles},
               {"utilization", o.utilization}, {"bound", o.bound}, {"energy_pj", energy_json(o.energy, 1)}};
    if (o.op.is_gemm()) {
      op["M"] = o.op.m;
      op["N"] = o.op.n;
      op["K"] = o.op.k;
      op["roles"] = {role_name(o.op.a_role), role_name(o.op.b_role)};
      op["formats"] = {o.a_format, o.b_format};
      op["mapping"] = {{"order", o.mapping.order}, {"tile_m", o.mapping.tile_m}, {"tile_n", o.mapping.tile_n},
                       {"tile_k", o.mapping.tile_k}};
      op["dpu_block_ops"] = o.dpu_block_ops;
      op["dram_bytes"] = bytes_json(o.dram);
    } else {
      op["elements"] = o.op.elements;
    }
    out["operators"].push_back(op);
  }
  refuse_non_finite(out, "point");
  return out;
}

std::vector<std::pair<std::string, double>> point_metrics(const PointResult& r) {
  double ttft = 0, tpot = 0;
  for (const PhaseResult& p : r.phases) (p.phase == "prefill" ? ttft : tpot) = p.latency_ms;
  const double per_token = 1e-6 / r.tokens;
  return {{"cycles", r.cycles},
          {"latency_ms", r.latency_ms},
          {"ttft_ms", ttft},
          {"tpot_ms", tpot},
          {"tokens_per_s", r.tokens_per_s},
          {"energy_per_token_uj", r.energy_per_token_uj},
          {"energy_dpu_uj", r.energy.dpu_pj * per_token},
          {"energy_accumulate_uj", r.energy.accumulate_pj * per_token},
          {"energy_sram_uj", r.energy.sram_pj * per_token},
          {"energy_dram_uj", r.energy.dram_pj * per_token},
          {"energy_vector_uj", r.energy.vector_pj * per_token},
          {"area_mm2", r.area.total_um2() * 1e-6},
          {"dram_bytes_w", r.dram.w},
          {"dram_bytes_a", r.dram.a},
          {"dram_bytes_kv", r.dram.kv},
          {"dram_bytes_out", r.dram.out},
          {"weight_bytes", static_cast<double>(r.weight_bytes)},
          {"kv_bytes", static_cast<double>(r.kv_bytes)},
          {"utilization", r.utilization}};
}

}  // namespace nibble

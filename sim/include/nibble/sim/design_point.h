#pragma once
// One design point: an accelerator, an LLM workload and a format per operand role, evaluated
// into time, energy, traffic, footprint and area (DESIGN.md, "Design point"). The library
// entry point of the CLI (`nibble sim --model`), the sweep engine and the Python package.
//
// Every GEMM operator of every forward step runs under the mapper's choice (or the array-tile
// order with mapping "m-outer"); identical GEMMs are evaluated once. Vector work runs on the
// vector unit after the GEMMs, not overlapped: ceil(elements / vector.elements_per_cycle)
// cycles. Phase latency: TTFT (the prefill) and TPOT (the mean decode step); energy per token
// divides a phase's energy by the tokens it processes (prefill: batch x prompt) or produces
// (decode: batch per step); for a request, the point's energy per token is all energy over the
// batch x generated tokens.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "nibble/sim/accelerator.h"
#include "nibble/sim/energy.h"
#include "nibble/workloads/workload.h"

namespace nibble {

constexpr int kPointSchemaVersion = 2;

struct RoleFormats {
  std::string w, a, kv;  // kv empty: the activation format
};

// The energy table and the synthesized DPU areas: load once, share across points and threads.
struct Tables {
  EnergyTable energy;
  AreaTable area;
  ActivityTable activity;
};
Tables load_tables(const std::string& energy_path, const std::string& area_path, const std::string& activity_path);
// The shipped sim/configs/energy_45nm.yaml, rtl/area/area.json and rtl/gate/activity.json,
// loaded on first use.
const Tables& default_tables();

// DRAM bytes by what they carry.
struct RoleBytes {
  double w = 0, a = 0, kv = 0, out = 0;
  double total() const { return w + a + kv + out; }
};

struct EnergyTotals {
  double dpu_pj = 0, accumulate_pj = 0, sram_pj = 0, dram_pj = 0, vector_pj = 0;
  double total_pj() const { return dpu_pj + accumulate_pj + sram_pj + dram_pj + vector_pj; }
};

// One operator of one phase, summed over the phase's steps.
struct OperatorResult {
  std::string phase, name;
  Operator op;                  // shape of one instance (at the phase's last step)
  std::string a_format, b_format;
  Mapping mapping;              // the mapping of that instance
  double instances = 0;         // instances over the phase (repeat x steps)
  double cycles = 0, compute_cycles = 0, stall_cycles = 0;
  double utilization = 0;       // of the array over this operator's cycles
  std::string bound;            // roofline: "compute" or "memory"
  double dpu_block_ops = 0;
  RoleBytes dram;
  EnergyTotals energy;
};

struct PhaseResult {
  std::string phase;            // "prefill" or "decode"
  double steps = 0;             // forward steps (decode: generated tokens after the first)
  double tokens = 0;
  double cycles = 0;            // all steps
  double latency_ms = 0;        // TTFT (prefill) or TPOT (decode: per step)
  double tokens_per_s = 0;
  double energy_per_token_uj = 0;
  EnergyTotals energy;
  RoleBytes dram;
};

struct PointResult {
  HardwareConfig hardware;
  WorkloadSpec workload;
  RoleFormats formats;          // canonical names, kv filled in
  std::string mapping;          // "best" or "m-outer"
  ModelConfig model;
  std::vector<OperatorResult> operators;
  std::vector<PhaseResult> phases;
  double cycles = 0, latency_ms = 0, tokens = 0, tokens_per_s = 0, energy_per_token_uj = 0;
  double utilization = 0;
  std::string bound;            // of the whole point: where most cycles are memory-bound or not
  EnergyTotals energy;
  RoleBytes dram;
  DesignArea area;
  std::int64_t weight_bytes = 0;  // every weight matrix in the w format (embedding included)
  std::int64_t kv_bytes = 0;      // the KV cache at the workload's longest context, whole batch
  double kv_bytes_per_token = 0;
};

// Throws nibble::Error for formats the hardware cannot run (naming both operands), unknown
// models or phases, and GEMMs no mapping fits. `mapping`: "best" (the mapper) or "m-outer"
// (array tiles in plain order).
PointResult evaluate_point(const HardwareConfig& hw, const WorkloadSpec& workload, const RoleFormats& formats,
                           const Tables& tables, const std::string& mapping = "best");

// Schema version 2: hardware (every key), workload, formats, totals, phases, operators, area.
// Refuses NaN or infinite values with an Error naming the field.
nlohmann::json point_json(const PointResult& result);
// Flat metrics with stable names (sweep columns): cycles, latency_ms, ttft_ms, tpot_ms,
// tokens_per_s, energy_per_token_uj, energy_<part>_uj (per token), area_mm2, dram_bytes_<role>,
// weight_bytes, kv_bytes, utilization.
std::vector<std::pair<std::string, double>> point_metrics(const PointResult& result);

}  // namespace nibble

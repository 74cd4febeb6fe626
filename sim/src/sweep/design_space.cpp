#include "nibble/sim/design_space.h"

#include <nlohmann/json.hpp>

#include "nibble/models/block_format.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/sim/design_point.h"
#include "nibble/sim/hardware.h"
#include "nibble/workloads/workload.h"

namespace nibble {
namespace {

// The array's peak and the DRAM's bandwidth against each GEMM's intensity and attained rate.
// A block pair (block MACs, 2 x block ops) issues every initiation interval x ceil(block /
// lanes) cycles on each of the R x C DPUs.
nlohmann::json roofline(const PointResult& r) {
  const HardwareConfig& hw = r.hardware;
  const int block = make_format(r.formats.a)->info().block;
  const int lanes = hw.dpu_lanes > 0 ? hw.dpu_lanes : block;
  const double step_cycles = hw.dpu_initiation_interval * static_cast<double>((block + lanes - 1) / lanes);
  const double peak_gops = 2.0 * hw.rows * hw.cols * block / step_cycles * hw.clock_ghz;
  nlohmann::json operators = nlohmann::json::array();
  for (const OperatorResult& o : r.operators) {
    if (!o.op.is_gemm() || o.cycles <= 0 || o.dram.total() <= 0) continue;
    const double ops = 2.0 * static_cast<double>(o.op.m) * static_cast<double>(o.op.n) * static_cast<double>(o.op.k) * o.instances;
    operators.push_back({{"name", o.phase + " " + o.name},
                         {"intensity", ops / o.dram.total()},
                         {"gops", ops / (o.cycles / hw.clock_ghz)}});  // ops per ns = GOP/s
  }
  return {{"peak_gops", peak_gops}, {"bandwidth_gbs", hw.dram_bytes_per_cycle * hw.clock_ghz}, {"operators", operators}};
}

class SimulatorDesignSpace : public DesignSpace {
 public:
  SimulatorDesignSpace() : tables_(default_tables()) {
    // point_metrics' names are fixed; read them (and which are energy terms, named
    // energy_<part>_uj per design_point.h) from one evaluation of the default design.
    for (const auto& [name, value] : point_metrics(evaluate_point(HardwareConfig{}, WorkloadSpec{}, {"mxfp4", "mxfp4", ""}, tables_))) {
      const bool part = name.rfind("energy_", 0) == 0 && name != "energy_per_token_uj";
      metrics_.push_back({name, part});
    }
  }

  nlohmann::json load_hardware(const std::string& path) const override {
    return hardware_to_json(nibble::load_hardware(path));
  }
  nlohmann::json default_workload() const override { return workload_to_json(WorkloadSpec{}); }
  void set_hardware(nlohmann::json& hardware, const std::string& key, const nlohmann::json& value) const override {
    HardwareConfig hw = hardware_from_json(hardware);
    set_hardware_key(hw, key, value);
    hardware = hardware_to_json(hw);
  }
  void set_workload(nlohmann::json& workload, const std::string& key, const nlohmann::json& value) const override {
    WorkloadSpec spec = workload_from_json(workload);
    set_workload_key(spec, key, value);
    workload = workload_to_json(spec);
  }
  const std::vector<MetricInfo>& metrics() const override { return metrics_; }

  Evaluation evaluate(const nlohmann::json& design) const override {
    const nlohmann::json& f = design.at("formats");
    const PointResult r = evaluate_point(hardware_from_json(design.at("hardware")), workload_from_json(design.at("workload")),
                                         {f.at("w"), f.at("a"), f.at("kv")}, tables_);
    Evaluation e;
    for (const auto& [name, value] : point_metrics(r)) e.metrics.push_back(value);
    e.bound = r.bound;
    e.detail = point_json(r);
    e.detail["roofline"] = roofline(r);
    return e;
  }

 private:
  const Tables& tables_;
  std::vector<MetricInfo> metrics_;
};

}  // namespace

std::unique_ptr<DesignSpace> make_design_space() { return std::make_unique<SimulatorDesignSpace>(); }

}  // namespace nibble

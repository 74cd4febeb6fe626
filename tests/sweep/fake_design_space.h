#pragma once
// A deterministic stand-in for the design-point model, for testing the sweep engine's own
// behaviour (enumeration, store, resume, shards, MPI, failures) without the simulator:
//   hardware: clock_ghz in [0.1, 10], array.rows and array.cols integers in [1, 1024],
//             buffers.w_kib in [1, 65536]
//   workload: model (tiny | small), phase (prefill | decode), batch integer in [1, 64]
// The metrics are closed-form functions of those values and the formats' bits per element;
// batch 13 fails ("does not fit"), so tests can check failed points.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

#include "nibble/models/block_format.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/sim/sweep.h"

namespace nibble {

class FakeDesignSpace : public DesignSpace {
 public:
  explicit FakeDesignSpace(std::chrono::microseconds delay = {}) : delay_(delay) {}

  nlohmann::json load_hardware(const std::string& path) const override {
    if (!std::filesystem::exists(path)) throw Error(path + ": cannot open file");
    return {{"clock_ghz", 1.0}, {"array", {{"rows", 16}, {"cols", 16}}}, {"buffers", {{"w_kib", 256.0}}}};
  }
  nlohmann::json default_workload() const override {
    return {{"model", "tiny"}, {"phase", "decode"}, {"batch", 1}};
  }
  void set_hardware(nlohmann::json& hw, const std::string& key, const nlohmann::json& v) const override {
    if (key == "clock_ghz") hw["clock_ghz"] = real(key, v, 0.1, 10);
    else if (key == "array.rows") hw["array"]["rows"] = integer(key, v, 1, 1024);
    else if (key == "array.cols") hw["array"]["cols"] = integer(key, v, 1, 1024);
    else if (key == "buffers.w_kib") hw["buffers"]["w_kib"] = real(key, v, 1, 65536);
    else throw Error("unknown hardware key '" + key + "' (valid: array.cols, array.rows, buffers.w_kib, clock_ghz)");
  }
  void set_workload(nlohmann::json& w, const std::string& key, const nlohmann::json& v) const override {
    if (key == "model") w["model"] = choice(key, v, {"tiny", "small"});
    else if (key == "phase") w["phase"] = choice(key, v, {"prefill", "decode"});
    else if (key == "batch") w["batch"] = integer(key, v, 1, 64);
    else throw Error("unknown workload key '" + key + "' (valid: batch, model, phase)");
  }
  const std::vector<MetricInfo>& metrics() const override {
    static const std::vector<MetricInfo> list = {
        {"latency_ms"}, {"energy_per_token_uj"}, {"energy_dpu_uj", true},
        {"energy_dram_uj", true}, {"area_mm2"}, {"cycles"}};
    return list;
  }
  Evaluation evaluate(const nlohmann::json& d) const override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    const nlohmann::json& hw = d.at("hardware");
    const nlohmann::json& w = d.at("workload");
    if (w.at("batch") == 13) throw Error("batch 13 does not fit the buffers");
    const double rows = hw.at("array").at("rows"), cols = hw.at("array").at("cols");
    const double kib = hw.at("buffers").at("w_kib"), ghz = hw.at("clock_ghz");
    const double batch = w.at("batch"), size = w.at("model") == "tiny" ? 1 : 4;
    const double tokens = w.at("phase") == "prefill" ? 128 * batch : batch;
    const double bits_w = bits(d, "w"), bits_a = bits(d, "a");
    const double cycles = std::ceil(size * 1e6 * tokens * bits_w * bits_a / (rows * cols)) + 1000;
    const double dpu = 0.01 * bits_w * bits_a * size * tokens, dram = 0.2 * bits_w * size * 1000 / std::sqrt(kib);
    Evaluation e;
    e.metrics = {cycles / ghz / 1e6, (dpu + dram) / tokens, dpu / tokens, dram / tokens,
                 rows * cols * 0.001 * bits_w + kib * 0.002, cycles};
    e.bound = dram > dpu ? "memory" : "compute";
    e.detail = {{"roofline",
                 {{"operators", {{{"name", "qkv"}, {"intensity", bits_w * 2}, {"gops", rows * cols * ghz / 1000}},
                                 {{"name", "ffn"}, {"intensity", bits_a * 8}, {"gops", rows * cols * ghz / 900}}}},
                  {"peak_gops", rows * cols * ghz * 2 / 1000},
                  {"bandwidth_gbs", 64 * ghz}}}};
    return e;
  }

 private:
  static double bits(const nlohmann::json& d, const char* role) {
    return make_format(d.at("formats").at(role).get<std::string>())->info().bits_per_element;
  }
  static nlohmann::json integer(const std::string& key, const nlohmann::json& v, int lo, int hi) {
    if (!v.is_number_integer() || v.get<int>() < lo || v.get<int>() > hi) {
      throw Error(key + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return v;
  }
  static nlohmann::json real(const std::string& key, const nlohmann::json& v, double lo, double hi) {
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
      throw Error(key + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return v.get<double>();
  }
  static nlohmann::json choice(const std::string& key, const nlohmann::json& v, const std::set<std::string>& valid) {
    if (!v.is_string() || !valid.count(v.get<std::string>())) throw Error(key + ": not one of the valid values");
    return v;
  }
  std::chrono::microseconds delay_;
};

}  // namespace nibble

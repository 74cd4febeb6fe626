#include <cstdio>
#include <fstream>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include <nlohmann/json.hpp>

#include "nibble/sim/accelerator.h"
#include "nibble/sim/design_point.h"
#include "nibble/sim/energy.h"
#include "nibble/sim/systolic.h"
#include "nibble/workloads/synthetic.h"

namespace nibble::cli {

// Cycles of every GEMM as the SystemC shell simulates them (sim_systemc.cpp).
std::vector<std::int64_t> systemc_cycles(const HardwareConfig& hw, const std::vector<GemmStats>& schedule);

namespace {

using json = nlohmann::json;

// The classic systolic mode: SCALE-Sim's config and topology in, its COMPUTE_REPORT out.
int run_scalesim(const std::string& config_path, const std::string& gemms_path,
                 const std::string& csv_path) {
  const SystolicConfig config = load_scalesim_config(config_path);
  const std::vector<Gemm> gemms = load_gemms(gemms_path);
  std::printf("%s: %d x %d %s array, SRAM %lld/%lld/%lld KiB, %s bandwidth\n", config.run_name.c_str(),
              config.rows, config.cols, config.dataflow.c_str(),
              static_cast<long long>(config.ifmap_sram_bytes / 1024),
              static_cast<long long>(config.filter_sram_bytes / 1024),
              static_cast<long long>(config.ofmap_sram_bytes / 1024),
              config.user_bandwidth ? "USER" : "CALC");
  std::printf("%-16s %7s %7s %7s %14s %12s %12s %8s %8s %8s %10s %10s %10s\n", "gemm", "M", "N", "K",
              "cycles+pref", "cycles", "stall", "util%", "map%", "comp%", "stall_if", "stall_fil",
              "stall_of");
  std::vector<SystolicReport> reports;
  for (const Gemm& g : gemms) {
    const SystolicReport& r = reports.emplace_back(simulate_systolic(config, g));
    std::printf("%-16s %7lld %7lld %7lld %14lld %12lld %12lld %8.3f %8.3f %8.3f %10lld %10lld %10lld\n",
                g.name.c_str(), static_cast<long long>(g.m), static_cast<long long>(g.n),
                static_cast<long long>(g.k), static_cast<long long>(r.cycles_with_prefetch),
                static_cast<long long>(r.cycles), static_cast<long long>(r.stall_cycles),
                r.overall_util_pct, r.mapping_efficiency_pct, r.compute_util_pct,
                static_cast<long long>(r.ifmap_stall_cycles), static_cast<long long>(r.filter_stall_cycles),
                static_cast<long long>(r.ofmap_stall_cycles));
    std::fflush(stdout);  // one line per GEMM as it finishes: progress on long topologies
  }
  if (!csv_path.empty()) write_compute_report(csv_path, reports);
  return 0;
}

void print_keys() {
  std::printf("%-28s %-8s %-14s %-22s %s\n", "key", "kind", "default", "range", "doc");
  const HardwareConfig defaults;
  for (const HardwareKey& key : hardware_keys()) {
    const bool format = key.kind == KeyKind::kFormat;
    const std::string range = format ? "a format name" : json(key.min).dump() + " .. " + json(key.max).dump();
    std::printf("%-28s %-8s %-14s %-22s %s%s\n", key.path.c_str(),
                format ? "format" : key.kind == KeyKind::kInteger ? "integer" : "real",
                hardware_value(defaults, key.path).dump().c_str(), range.c_str(), key.doc.c_str(),
                key.unit.empty() ? "" : (" [" + key.unit + "]").c_str());
  }
}

void write_json_file(const std::string& path, const json& doc) {
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot open file for writing");
  out << doc.dump(1) << "\n";
  out.close();
  if (!out) throw Error(path + ": write failed");
}

// --model: one design point, printed per operator and per phase.
void run_point(const HardwareConfig& hw, const WorkloadSpec& workload, const RoleFormats& formats,
               const Tables& tables, const std::string& mapping, const std::string& json_path) {
  const PointResult r = evaluate_point(hw, workload, formats, tables, mapping);
  std::printf("%s (%.2fB parameters), %s, batch %lld; w %s, a %s, kv %s; mapping %s\n", r.model.name.c_str(),
              static_cast<double>(r.model.parameters()) * 1e-9, workload.phase.c_str(),
              static_cast<long long>(workload.batch), r.formats.w.c_str(), r.formats.a.c_str(), r.formats.kv.c_str(),
              mapping.c_str());
  std::printf("%-8s %-13s %7s %7s %7s %12s %16s %6s %7s %-26s %12s %10s\n", "phase", "operator", "M", "N", "K",
              "instances", "cycles", "util", "bound", "mapping", "dram_MB", "energy_uJ");
  for (const OperatorResult& o : r.operators) {
    std::printf("%-8s %-13s %7lld %7lld %7lld %12.0f %16.0f %6.3f %7s %-26s %12.2f %10.1f\n", o.phase.c_str(),
                o.name.c_str(), static_cast<long long>(o.op.m), static_cast<long long>(o.op.n),
                static_cast<long long>(o.op.k), o.instances, o.cycles, o.utilization, o.bound.c_str(),
                o.op.is_gemm() ? o.mapping.describe().c_str() : "vector unit", o.dram.total() * 1e-6,
                o.energy.total_pj() * 1e-6);
  }
  for (const PhaseResult& p : r.phases) {
    std::printf("%s: %s %.3f ms, %.1f tokens/s, %.3f uJ/token (DPU %.3f, accumulate %.3f, SRAM %.3f, DRAM %.3f, "
                "vector %.3f); DRAM MB w %.1f a %.1f kv %.1f out %.1f\n",
                p.phase.c_str(), p.phase == "prefill" ? "TTFT" : "TPOT", p.latency_ms, p.tokens_per_s,
                p.energy_per_token_uj, p.energy.dpu_pj * 1e-6 / p.tokens, p.energy.accumulate_pj * 1e-6 / p.tokens,
                p.energy.sram_pj * 1e-6 / p.tokens, p.energy.dram_pj * 1e-6 / p.tokens,
                p.energy.vector_pj * 1e-6 / p.tokens, p.dram.w * 1e-6, p.dram.a * 1e-6, p.dram.kv * 1e-6,
                p.dram.out * 1e-6);
  }
  std::printf("total: %.0f cycles (%.3f ms at %.2f GHz), %.1f tokens/s, %.3f uJ/token, utilization %.3f, %s-bound\n",
              r.cycles, r.latency_ms, hw.clock_ghz, r.tokens_per_s, r.energy_per_token_uj, r.utilization,
              r.bound.c_str());
  std::printf("footprint: weights %.1f MB, KV cache %.1f MB (%.0f bytes/token)\n", static_cast<double>(r.weight_bytes) * 1e-6,
              static_cast<double>(r.kv_bytes) * 1e-6, r.kv_bytes_per_token);
  std::printf("area: %.3f mm2 (DPUs %.3f, SRAM %.3f); DPU: %s\n", r.area.total_um2() * 1e-6, r.area.dpu_um2 * 1e-6,
              r.area.sram_um2 * 1e-6, r.area.dpu_basis.c_str());
  if (!json_path.empty()) write_json_file(json_path, point_json(r));
}

}  // namespace

int run_sim(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("sim options");
  options.add_options()
      ("hw", po::value<std::string>(), "hardware description (.yaml; see --list-keys)")
      ("list-keys", "print every hardware key with its default, range, unit and meaning")
      ("model", po::value<std::string>(), "an LLM: a zoo name (nibble models), a .yaml or a config.json")
      ("phase", po::value<std::string>()->default_value("decode"), "prefill, decode or request")
      ("batch", po::value<std::int64_t>()->default_value(1), "sequences")
      ("prompt", po::value<std::int64_t>()->default_value(2048), "prompt tokens (prefill, request)")
      ("context", po::value<std::int64_t>()->default_value(2048), "tokens attended to (decode)")
      ("generated", po::value<std::int64_t>()->default_value(256), "tokens generated (request)")
      ("gemms", po::value<std::string>(), "instead of --model: a GEMM list (.csv: name,M,N,K or SCALE-Sim topology)")
      ("w-format", po::value<std::string>(), "weight format, e.g. nvfp4 (default: the hardware's dpu.format)")
      ("a-format", po::value<std::string>(), "activation format (default: the hardware's dpu.format)")
      ("kv-format", po::value<std::string>(), "KV-cache format (default: the activation format)")
      ("mapping", po::value<std::string>()->default_value("best"),
       "best (the mapper picks per GEMM) or m-outer (array tiles in plain order)")
      ("scalesim", po::value<std::string>(), "SCALE-Sim .cfg: run the classic systolic mode (one MAC "
                                             "per PE, SCALE-Sim v3 timing) instead of --hw")
      ("csv", po::value<std::string>(), "with --scalesim: write the results as COMPUTE_REPORT.csv")
      ("json", po::value<std::string>(), "also write the results as JSON (schema_version 2)")
      ("systemc", "with --gemms: also replay every step schedule through the SystemC shell and check that its "
                  "simulated time equals the cycles above")
      ("functional", "with --gemms: also compute C tile by tile through the golden dot product, on synthetic "
                     "llm-act activations and llm-weight weights")
      ("seed", po::value<std::uint64_t>()->default_value(1), "seed of the functional-mode tensors")
      ("energy", po::value<std::string>()->default_value(NIBBLE_SOURCE_DIR "/sim/configs/energy_45nm.yaml"),
       "energy per event table (.yaml)")
      ("area", po::value<std::string>()->default_value(NIBBLE_SOURCE_DIR "/rtl/area/area.json"),
       "synthesized DPU areas that scale DPU energy (missing: element-bit estimate)")
      ("activity", po::value<std::string>()->default_value(NIBBLE_SOURCE_DIR "/rtl/gate/activity.json"),
       "measured gate-level switching per block operation (missing: the area-scaled estimate)");
  po::variables_map vm;
  if (!parse_options("sim", args, options, vm)) return 0;
  if (vm.count("list-keys")) {
    print_keys();
    return 0;
  }
  if (vm.count("scalesim")) {
    for (const char* other : {"hw", "a-format", "w-format", "kv-format", "functional", "json", "systemc", "model"}) {
      if (vm.count(other)) throw Error(std::string("sim: --") + other + " does not apply to --scalesim");
    }
    if (!vm.count("gemms")) throw Error("sim: --scalesim needs --gemms");
    return run_scalesim(vm["scalesim"].as<std::string>(), vm["gemms"].as<std::string>(),
                        vm.count("csv") ? vm["csv"].as<std::string>() : "");
  }
  if (vm.count("csv")) throw Error("sim: --csv needs --scalesim (use --json with --hw)");
  if (!vm.count("hw")) throw Error("sim: --hw is required (or give --scalesim)");
  if (vm.count("model") == vm.count("gemms")) throw Error("sim: give one of --model or --gemms");
  const HardwareConfig hw = load_hardware(vm["hw"].as<std::string>());
  const std::string mapping = vm["mapping"].as<std::string>();
  const Tables tables = load_tables(vm["energy"].as<std::string>(), vm["area"].as<std::string>(),
                                    vm["activity"].as<std::string>());
  // Operand formats: the flags, else the format the hardware's DPUs are built for.
  const auto format_name = [&](const char* flag) -> std::string {
    if (vm.count(flag)) return vm[flag].as<std::string>();
    if (hw.dpu_format.empty()) {
      throw Error(std::string("sim: --") + flag + " is required (the hardware names no dpu format)");
    }
    return hw.dpu_format;
  };
  const std::string json_path = vm.count("json") ? vm["json"].as<std::string>() : "";
  if (vm.count("model")) {
    for (const char* other : {"systemc", "functional"}) {
      if (vm.count(other)) throw Error(std::string("sim: --") + other + " applies to --gemms");
    }
    WorkloadSpec workload;
    workload.model = vm["model"].as<std::string>();
    set_workload_key(workload, "phase", vm["phase"].as<std::string>());
    for (const char* key : {"batch", "prompt", "context", "generated"}) {
      set_workload_key(workload, key, vm[key].as<std::int64_t>());
    }
    run_point(hw, workload, {format_name("w-format"), format_name("a-format"),
                             vm.count("kv-format") ? vm["kv-format"].as<std::string>() : ""},
              tables, mapping, json_path);
    return 0;
  }
  if (vm.count("kv-format")) throw Error("sim: --kv-format applies to --model");
  if (mapping != "best" && mapping != "m-outer") {
    throw Error("sim: --mapping must be best or m-outer, not '" + mapping + "'");
  }
  const std::vector<Gemm> gemms = load_gemms(vm["gemms"].as<std::string>());
  const auto operand_format = [&](const char* flag) {
    auto format = make_format(format_name(flag));
    if (!hw.dpu_format.empty() && format->info().name != hw.dpu_format) {
      throw Error(std::string("sim: --") + flag + " " + format->info().name + " does not run on DPUs built for " +
                  hw.dpu_format);
    }
    return format;
  };
  const auto a = operand_format("a-format");
  const auto w = operand_format("w-format");

  const bool replay = vm.count("systemc") > 0;
  std::vector<GemmStats> stats;
  std::vector<EnergyBreakdown> energy;
  for (const Gemm& g : gemms) {
    const Mapping chosen = mapping == "best" ? best_mapping(hw, g, *a, *w).mapping : array_tile_mapping(hw, g);
    stats.push_back(simulate_gemm(hw, g, *a, *w, chosen, /*with_schedule=*/replay));
    energy.push_back(gemm_energy(tables.energy, tables.area, tables.activity, hw, stats.back(), *a, *w));
  }
  std::printf("%-16s %7s %7s %7s %14s %14s %12s %6s %-26s %14s %14s %10s\n", "gemm", "M", "N", "K",
              "cycles", "compute", "stall", "util", "mapping", "dram_a_bytes", "dram_w_bytes", "energy_uJ");
  std::int64_t cycles = 0, stall = 0, a_bytes = 0, w_bytes = 0, ops = 0;
  std::int64_t first_load = 0, operand_load = 0, result_store = 0, sram_ports = 0;
  EnergyBreakdown total_energy;
  json doc = {{"schema_version", kPointSchemaVersion}, {"a_format", a->info().name}, {"w_format", w->info().name},
              {"mapping", mapping}, {"hardware", hardware_to_json(hw)}, {"gemms", json::array()}};
  for (size_t i = 0; i < stats.size(); ++i) {
    const GemmStats& s = stats[i];
    std::printf("%-16s %7lld %7lld %7lld %14lld %14lld %12lld %6.3f %-26s %14lld %14lld %10.1f\n",
                s.gemm.name.c_str(), static_cast<long long>(s.gemm.m), static_cast<long long>(s.gemm.n),
                static_cast<long long>(s.gemm.k), static_cast<long long>(s.cycles),
                static_cast<long long>(s.compute_cycles), static_cast<long long>(s.stall_cycles),
                s.utilization, s.mapping.describe().c_str(), static_cast<long long>(s.dram_a.total()),
                static_cast<long long>(s.dram_w.total()), energy[i].total_pj() * 1e-6);
    total_energy.dpu_pj += energy[i].dpu_pj;
    total_energy.accumulate_pj += energy[i].accumulate_pj;
    total_energy.sram_pj += energy[i].sram_pj;
    total_energy.dram_pj += energy[i].dram_pj;
    cycles += s.cycles;
    stall += s.stall_cycles;
    first_load += s.stall_first_load;
    operand_load += s.stall_operand_load;
    result_store += s.stall_result_store;
    sram_ports += s.stall_sram_ports;
    a_bytes += s.dram_a.total();
    w_bytes += s.dram_w.total();
    ops += s.dpu_block_ops;
    const auto operand = [](const OperandBytes& b) {
      return json{{"elements", b.elements}, {"scales", b.scales}, {"side", b.side}, {"codebooks", b.codebooks}};
    };
    doc["gemms"].push_back(
        {{"name", s.gemm.name}, {"M", s.gemm.m}, {"N", s.gemm.n}, {"K", s.gemm.k}, {"cycles", s.cycles},
         {"compute_cycles", s.compute_cycles}, {"stall_cycles", s.stall_cycles},
         {"stalls", {{"first_load", s.stall_first_load}, {"operand_load", s.stall_operand_load},
                     {"result_store", s.stall_result_store}, {"sram_ports", s.stall_sram_ports}}},
         {"utilization", s.utilization}, {"dpu_block_ops", s.dpu_block_ops},
         {"mapping", {{"order", s.mapping.order}, {"tile_m", s.mapping.tile_m}, {"tile_n", s.mapping.tile_n},
                      {"tile_k", s.mapping.tile_k}}},
         {"dram_a", operand(s.dram_a)}, {"dram_w", operand(s.dram_w)}, {"sram_read_a", s.sram_read_a},
         {"sram_read_w", s.sram_read_w}, {"dram_out_bytes", s.dram_out_bytes},
         {"energy_pj", {{"dpu", energy[i].dpu_pj}, {"accumulate", energy[i].accumulate_pj},
                        {"sram", energy[i].sram_pj}, {"dram", energy[i].dram_pj},
                        {"dpu_basis", energy[i].dpu_basis}}}});
  }
  std::printf("total: %lld cycles (%.3f ms at %.2f GHz), %lld stall cycles, utilization %.3f, "
              "DRAM %lld + %lld bytes\n",
              static_cast<long long>(cycles), static_cast<double>(cycles) / (hw.clock_ghz * 1e6),
              hw.clock_ghz, static_cast<long long>(stall),
              static_cast<double>(ops) / (static_cast<double>(hw.rows) * hw.cols * static_cast<double>(cycles)),
              static_cast<long long>(a_bytes), static_cast<long long>(w_bytes));
  std::printf("stalls: first load %lld, operand loads %lld, result stores %lld; SRAM-port "
              "stretched compute %lld\n",
              static_cast<long long>(first_load), static_cast<long long>(operand_load),
              static_cast<long long>(result_store), static_cast<long long>(sram_ports));
  const DesignArea area = design_area(tables.energy, tables.area, hw, *a, *w);
  std::printf("area: %.3f mm2 (DPUs %.3f, SRAM %.3f); DPU: %s\n", area.total_um2() * 1e-6,
              area.dpu_um2 * 1e-6, area.sram_um2 * 1e-6, area.dpu_basis.c_str());
  std::printf("energy: %.1f uJ (DPU %.1f, accumulate %.1f, SRAM %.1f, DRAM %.1f); table: %s; DPU: %s\n",
              total_energy.total_pj() * 1e-6, total_energy.dpu_pj * 1e-6,
              total_energy.accumulate_pj * 1e-6, total_energy.sram_pj * 1e-6,
              total_energy.dram_pj * 1e-6, tables.energy.source.c_str(), energy.front().dpu_basis.c_str());
  if (replay) {
    const std::vector<std::int64_t> shell = systemc_cycles(hw, stats);
    std::int64_t total = 0;
    for (size_t i = 0; i < stats.size(); ++i) {
      if (shell[i] != stats[i].cycles) {
        throw Error("sim: SystemC shell simulated " + std::to_string(shell[i]) + " cycles for " +
                    stats[i].gemm.name + ", the model " + std::to_string(stats[i].cycles));
      }
      total += shell[i];
    }
    std::printf("systemc: the shell simulated %lld cycles (%.3f ms), equal to the model for every GEMM\n",
                static_cast<long long>(total), static_cast<double>(total) / (hw.clock_ghz * 1e6));
  }
  if (vm.count("functional")) {
    for (const Gemm& g : gemms) {
      const std::uint64_t seed = vm["seed"].as<std::uint64_t>();
      const QuantizedTensor qa = a->quantize(synthetic_tensor("llm-act", g.m, g.k, seed));
      const QuantizedTensor qw = w->quantize(synthetic_tensor("llm-weight", g.n, g.k, seed + 1));
      const Matrix c = functional_gemm(hw, qa, qw);
      double sum = 0;
      for (float v : c.data) sum += v;
      std::printf("functional %s: C[%lld x %lld] computed tile by tile, sum %.9g\n", g.name.c_str(),
                  static_cast<long long>(c.rows), static_cast<long long>(c.cols), sum);
    }
  }
  if (!json_path.empty()) {
    const EnergyBreakdown& e = total_energy;
    doc["total"] = {{"cycles", cycles}, {"energy_pj", e.total_pj()}, {"area_um2", area.total_um2()}};
    write_json_file(json_path, doc);
  }
  return 0;
}

}  // namespace nibble::cli

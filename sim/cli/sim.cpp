#include <cstdio>
#include <fstream>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/sim/accelerator.h"
#include "nibble/sim/energy.h"
#include "nibble/sim/systolic.h"
#include "nibble/workloads/synthetic.h"

namespace nibble::cli {

// Cycles of every GEMM as the SystemC shell simulates them (sim_systemc.cpp).
std::vector<std::int64_t> systemc_cycles(const HardwareConfig& hw, const std::vector<GemmStats>& schedule);

namespace {

constexpr int kSimSchemaVersion = 1;

void write_json(const std::string& path, const HardwareConfig& hw, const std::string& a,
                const std::string& w, const std::vector<GemmStats>& stats,
                const std::vector<EnergyBreakdown>& energy) {
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot open file for writing");
  out << "{\n \"schema_version\": " << kSimSchemaVersion << ",\n \"a_format\": \"" << a
      << "\",\n \"w_format\": \"" << w << "\",\n \"clock_ghz\": " << hw.clock_ghz
      << ",\n \"gemms\": [\n";
  for (size_t i = 0; i < stats.size(); ++i) {
    const GemmStats& s = stats[i];
    out << "  {\"name\": \"" << s.gemm.name << "\", \"M\": " << s.gemm.m << ", \"N\": " << s.gemm.n
        << ", \"K\": " << s.gemm.k << ", \"cycles\": " << s.cycles << ", \"compute_cycles\": "
        << s.compute_cycles << ", \"stall_cycles\": " << s.stall_cycles << ", \"stalls\": {\"first_load\": "
        << s.stall_first_load << ", \"operand_load\": " << s.stall_operand_load << ", \"result_store\": "
        << s.stall_result_store << ", \"sram_ports\": " << s.stall_sram_ports << "}, \"utilization\": "
        << s.utilization << ", \"dpu_block_ops\": " << s.dpu_block_ops
        << ", \"dram_a\": {\"elements\": " << s.dram_a.elements << ", \"scales\": " << s.dram_a.scales
        << ", \"side\": " << s.dram_a.side << ", \"codebooks\": " << s.dram_a.codebooks
        << "}, \"dram_w\": {\"elements\": " << s.dram_w.elements << ", \"scales\": " << s.dram_w.scales
        << ", \"side\": " << s.dram_w.side << ", \"codebooks\": " << s.dram_w.codebooks
        << "}, \"sram_read_a\": " << s.sram_read_a << ", \"sram_read_w\": " << s.sram_read_w
        << ", \"dram_out_bytes\": " << s.dram_out_bytes << ", \"energy_pj\": {\"dpu\": "
        << energy[i].dpu_pj << ", \"accumulate\": " << energy[i].accumulate_pj << ", \"sram\": "
        << energy[i].sram_pj << ", \"dram\": " << energy[i].dram_pj << ", \"dpu_basis\": \""
        << energy[i].dpu_basis << "\"}}" << (i + 1 < stats.size() ? "," : "") << "\n";
  }
  out << " ]\n}\n";
  out.close();
  if (!out) throw Error(path + ": write failed");
}

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

}  // namespace

int run_sim(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("sim options");
  options.add_options()
      ("hw", po::value<std::string>(), "hardware description (.yaml)")
      ("gemms", po::value<std::string>()->required(), "GEMM list (.csv: name,M,N,K or SCALE-Sim topology)")
      ("a-format", po::value<std::string>(), "activation format, e.g. mxfp4")
      ("w-format", po::value<std::string>(), "weight format, e.g. mxfp4")
      ("scalesim", po::value<std::string>(), "SCALE-Sim .cfg: run the classic systolic mode (one MAC "
                                             "per PE, SCALE-Sim v3 timing) instead of --hw")
      ("csv", po::value<std::string>(), "with --scalesim: write the results as COMPUTE_REPORT.csv")
      ("json", po::value<std::string>(), "also write the statistics as JSON")
      ("systemc", "also replay every tile schedule through the SystemC shell and check that its "
                  "simulated time equals the cycles above")
      ("functional", "also compute C tile by tile through the golden dot product, on synthetic "
                     "llm-act activations and llm-weight weights")
      ("seed", po::value<std::uint64_t>()->default_value(1), "seed of the functional-mode tensors")
      ("energy", po::value<std::string>()->default_value(NIBBLE_SOURCE_DIR "/sim/configs/energy_45nm.yaml"),
       "energy per event table (.yaml)")
      ("area", po::value<std::string>()->default_value(NIBBLE_SOURCE_DIR "/rtl/area/area.json"),
       "synthesized DPU areas that scale DPU energy (missing: element-bit estimate)");
  po::variables_map vm;
  if (!parse_options("sim", args, options, vm)) return 0;
  if (vm.count("scalesim")) {
    for (const char* other : {"hw", "a-format", "w-format", "functional", "json", "systemc"}) {
      if (vm.count(other)) throw Error(std::string("sim: --") + other + " does not apply to --scalesim");
    }
    return run_scalesim(vm["scalesim"].as<std::string>(), vm["gemms"].as<std::string>(),
                        vm.count("csv") ? vm["csv"].as<std::string>() : "");
  }
  if (vm.count("csv")) throw Error("sim: --csv needs --scalesim (use --json with --hw)");
  if (!vm.count("hw")) throw Error("sim: --hw is required (or give --scalesim)");
  const HardwareConfig hw = load_hardware(vm["hw"].as<std::string>());
  const std::vector<Gemm> gemms = load_gemms(vm["gemms"].as<std::string>());
  // Operand formats: the flags, else the format the hardware's DPUs are built for.
  const auto operand_format = [&](const char* flag) {
    if (!vm.count(flag) && hw.dpu_format.empty()) {
      throw Error(std::string("sim: --") + flag + " is required (the hardware names no dpu format)");
    }
    auto format = make_format(vm.count(flag) ? vm[flag].as<std::string>() : hw.dpu_format);
    if (!hw.dpu_format.empty() && format->info().name != hw.dpu_format) {
      throw Error(std::string("sim: --") + flag + " " + format->info().name + " does not run on DPUs built for " +
                  hw.dpu_format);
    }
    return format;
  };
  const auto a = operand_format("a-format");
  const auto w = operand_format("w-format");

  const EnergyTable table = load_energy(vm["energy"].as<std::string>());
  std::vector<GemmStats> stats;
  std::vector<EnergyBreakdown> energy;
  for (const Gemm& g : gemms) {
    stats.push_back(simulate_gemm(hw, g, *a, *w));
    energy.push_back(gemm_energy(table, hw, stats.back(), *a, *w, vm["area"].as<std::string>()));
  }
  std::printf("%-16s %7s %7s %7s %14s %14s %12s %6s %14s %14s %10s\n", "gemm", "M", "N", "K",
              "cycles", "compute", "stall", "util", "dram_a_bytes", "dram_w_bytes", "energy_uJ");
  std::int64_t cycles = 0, stall = 0, a_bytes = 0, w_bytes = 0, ops = 0;
  std::int64_t first_load = 0, operand_load = 0, result_store = 0, sram_ports = 0;
  EnergyBreakdown total_energy;
  for (size_t i = 0; i < stats.size(); ++i) {
    const GemmStats& s = stats[i];
    std::printf("%-16s %7lld %7lld %7lld %14lld %14lld %12lld %6.3f %14lld %14lld %10.1f\n",
                s.gemm.name.c_str(), static_cast<long long>(s.gemm.m), static_cast<long long>(s.gemm.n),
                static_cast<long long>(s.gemm.k), static_cast<long long>(s.cycles),
                static_cast<long long>(s.compute_cycles), static_cast<long long>(s.stall_cycles),
                s.utilization, static_cast<long long>(s.dram_a.total()),
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
  const DesignArea area = design_area(table, hw, *a, *w, vm["area"].as<std::string>());
  std::printf("area: %.3f mm2 (DPUs %.3f, SRAM %.3f); DPU: %s\n", area.total_um2() * 1e-6,
              area.dpu_um2 * 1e-6, area.sram_um2 * 1e-6, area.dpu_basis.c_str());
  std::printf("energy: %.1f uJ (DPU %.1f, accumulate %.1f, SRAM %.1f, DRAM %.1f); table: %s; DPU: %s\n",
              total_energy.total_pj() * 1e-6, total_energy.dpu_pj * 1e-6,
              total_energy.accumulate_pj * 1e-6, total_energy.sram_pj * 1e-6,
              total_energy.dram_pj * 1e-6, table.source.c_str(), energy.front().dpu_basis.c_str());
  if (vm.count("systemc")) {
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
  if (vm.count("json")) {
    write_json(vm["json"].as<std::string>(), hw, a->info().name, w->info().name, stats, energy);
  }
  return 0;
}

}  // namespace nibble::cli

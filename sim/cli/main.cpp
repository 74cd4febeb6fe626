// nibble: formats, quantization, accuracy evaluation (and, as they land, calibration,
// simulation, co-simulation, area, sweeps and reports) from one command.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "command.h"
#include "nibble/models/error.h"

namespace nibble::cli {
namespace {

constexpr Command kCommands[] = {
    {"formats", "list the block formats, their element/scale formats and bits per element",
     run_formats},
    {"quantize", "quantize and dequantize a .npy tensor; print MSE and QSNR", run_quantize},
    {"eval", "accuracy of formats: tensor QSNR (synthetic, .npy, .safetensors) or GEMM-output SNR",
     run_eval},
    {"calibrate", "LO-BCQ: calibrate BCQ codebooks on .npy tensors, write them as JSON",
     run_calibrate},
    {"lm", "perplexity of a llama2.c model with fake-quantized weights, activations and KV cache",
     run_lm},
    {"cosim", "co-simulate a Verilated RTL unit against the golden model", run_cosim},
    {"area", "synthesize an RTL unit configuration with Yosys and print its area", run_area},
    {"energy", "energy per block op of a unit's gate-level netlist on an operand source", run_energy},
    {"models", "list the LLM model zoo with parameter counts", run_models},
    {"sim", "an LLM workload (or a GEMM list) on a DPU array: time, energy, traffic, area", run_sim},
    {"sweep", "run a design-space sweep spec into DIR/results.sqlite", run_sweep_command},
    {"merge", "combine sweep databases (shards) into one", run_merge},
    {"export", "write a sweep's results as CSV or JSON", run_export},
    {"pareto", "print a sweep's Pareto-optimal points for its objectives", run_pareto},
    {"report", "write a sweep's results as one self-contained HTML page", run_report},
};

void print_usage() {
  std::cout << "usage: nibble <command> [options]   (nibble <command> --help for its options)\n\n"
               "commands:\n";
  for (const Command& c : kCommands) std::printf("  %-10s %s\n", c.name, c.summary);
}

}  // namespace

bool parse_options(const std::string& command, const Args& args,
                   boost::program_options::options_description& options,
                   boost::program_options::variables_map& vm,
                   const boost::program_options::positional_options_description& positional) {
  namespace po = boost::program_options;
  options.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: nibble " << command << " [options]\n" << options;
    return false;
  }
  po::notify(vm);
  return true;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                           : comma - start);
    if (!part.empty()) parts.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

void require_option(bool ok, const std::string& option, const std::string& rule, double value) {
  if (ok) return;
  std::ostringstream got;
  got << value;
  throw nibble::Error("--" + option + " must be " + rule + " (got " + got.str() + ")");
}

void require_threads(int threads) {
  require_option(threads >= 0 && threads <= kMaxThreads, "threads",
                 "0 (every core) or 1.." + std::to_string(kMaxThreads), threads);
}

std::string Outputs::add(const std::string& path) {
  const std::string partial = path + ".partial";
  if (!std::ofstream(partial)) throw nibble::Error(path + ": cannot open file for writing");
  paths_.push_back(path);
  return partial;
}

void Outputs::commit() {
  for (const std::string& path : paths_) {
    std::error_code ec;
    std::filesystem::rename(path + ".partial", path, ec);
    if (ec) throw nibble::Error(path + ": cannot move the finished file into place (" + ec.message() + ")");
  }
  committed_ = true;
}

Outputs::~Outputs() {
  if (committed_) return;
  std::error_code ec;
  for (const std::string& path : paths_) std::filesystem::remove(path + ".partial", ec);
}

}  // namespace nibble::cli

int main(int argc, char** argv) {
  using namespace nibble::cli;
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string_view name = argv[1];
  for (const Command& c : kCommands) {
    if (name != c.name) continue;
    try {
      return c.run(Args(argv + 2, argv + argc));
    } catch (const std::bad_alloc&) {
      // Sizes are checked where they are read; this is the last line of defence, and says so.
      std::cerr << "nibble: error: " << name << ": out of memory (the inputs or options ask for "
                   "more than this machine can allocate)\n";
      return 2;
    } catch (const std::length_error& e) {
      std::cerr << "nibble: error: " << name << ": a size is beyond what this machine can hold ("
                << e.what() << ")\n";
      return 2;
    } catch (const std::exception& e) {
      // nibble::Error and option errors are the user's to fix: one line, exit 2.
      std::string what = e.what();
      std::replace(what.begin(), what.end(), '\n', ' ');
      std::cerr << "nibble: error: " << what << "\n";
      return 2;
    }
  }
  std::cerr << "nibble: error: unknown command '" << name << "' (run nibble --help)\n";
  return 2;
}

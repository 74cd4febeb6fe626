#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/rtl/activity.h"
#include "nibble/sim/energy.h"
#include "nibble/workloads/lm.h"
#include "nibble/workloads/synthetic.h"

namespace nibble::cli {
namespace {

constexpr std::int64_t kMaxBlockOps = 100'000'000;
constexpr std::int64_t kSyntheticRows = 128, kSyntheticCols = 4096;
constexpr int kGeneratedTokens = 63;  // the lm: source's window after BOS

// The values of several matrices one after another, as one row.
Matrix concatenate(const std::vector<MatrixView>& parts) {
  std::int64_t total = 0;
  for (const MatrixView& p : parts) total += p.rows * p.cols;
  Matrix out(1, total);
  float* at = out.data.data();
  for (const MatrixView& p : parts) at = std::copy(p.data, p.data + p.rows * p.cols, at);
  return out;
}

// A's and B's values for an operand source; both empty for random codes. lm:<checkpoint>:
// the inputs of every linear layer while the FP32 model reads BOS and its own greedy
// continuation, against those layers' weights.
std::pair<Matrix, Matrix> operand_values(const std::string& source, std::uint64_t seed) {
  if (source == "random") return {};
  if (source == "llm-act" || source == "llm-weight") {
    return {synthetic_tensor(source, kSyntheticRows, kSyntheticCols, seed),
            synthetic_tensor(source, kSyntheticRows, kSyntheticCols, seed + 1)};
  }
  if (source.rfind("lm:", 0) != 0 || source.size() == 3) {
    throw Error("--operands must be random, llm-act, llm-weight or lm:<llama2.c checkpoint> (got '" + source + "')");
  }
  const Llama2cCheckpoint checkpoint(source.substr(3));
  const LlamaModel model(checkpoint, {});
  const std::vector<int> tokens = generate_greedy(model, {1}, kGeneratedTokens);
  std::vector<LayerActivations> layers;
  model.forward(tokens, &layers);
  std::vector<MatrixView> activations, weights;
  for (int l = 0; l < checkpoint.config().n_layers; ++l) {
    const LayerActivations& x = layers[static_cast<size_t>(l)];
    activations.insert(activations.end(), {x.attention_input, x.attention_output, x.ffn_input, x.ffn_hidden});
    const LlamaLayerWeights& w = checkpoint.layer(l);
    weights.insert(weights.end(), {w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3});
  }
  return {concatenate(activations), concatenate(weights)};
}

// The energy of one block operation and its parts: toggles x energy per cell type, clock.
void print_energy(const EnergyTable& table, const std::string& table_path, const Activity& activity) {
  std::printf("energy per block op: %.3f pJ (gate energies of %s)\n", block_op_pj(table, activity), table_path.c_str());
  std::printf("%-16s %8s %12s %10s %10s\n", "cell", "count", "toggles/op", "fJ/toggle", "fJ/op");
  std::int64_t flip_flops = 0;
  for (const auto& [cell, per_op] : activity.toggles_per_op) {
    const double fj = table.toggle_fj(cell);
    const std::int64_t count = activity.cells.at(cell);
    std::printf("%-16s %8lld %12.2f %10.3f %10.1f\n", cell.c_str(), static_cast<long long>(count), per_op, fj, per_op * fj);
    if (cell.find("DFF") != std::string::npos) flip_flops += count;
  }
  std::printf("%-16s %8lld %12.2f %10.3f %10.1f   (cycles/op x flip-flops x clock fJ)\n", "clock",
              static_cast<long long>(flip_flops), activity.cycles_per_op, table.flip_flop_clock_fj,
              static_cast<double>(flip_flops) * activity.cycles_per_op * table.flip_flop_clock_fj);
}

}  // namespace

int run_energy(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("energy options");
  options.add_options()
      ("unit", po::value<std::string>()->required(), "unit configuration, e.g. dpu_nv:a=nvfp4:b=nvfp4")
      ("param", po::value<std::vector<std::string>>(), "unit parameter a=F / b=F (repeatable)")
      ("operands", po::value<std::string>()->required(),
       "random, llm-act, llm-weight or lm:<llama2.c checkpoint>")
      ("block-ops", po::value<std::int64_t>()->default_value(2048), "block pairs to drive")
      ("seed", po::value<std::uint64_t>()->default_value(1), "seed of random codes and synthetic tensors")
      ("energy", po::value<std::string>()->default_value(NIBBLE_SOURCE_DIR "/sim/configs/energy_45nm.yaml"),
       "energy table with gate_toggle_fj (.yaml)")
      ("json", po::value<std::string>(), "also write the activity as JSON (read by rtl/gate/activity.py)")
      ("measured", po::value<std::string>()->implicit_value(NIBBLE_SOURCE_DIR "/rtl/gate/activity.json"),
       "print the figures recorded in this activity table (default: the checked-in one) instead of simulating");
  po::variables_map vm;
  if (!parse_options("energy", args, options, vm)) return 0;
  const std::int64_t block_ops = vm["block-ops"].as<std::int64_t>();
  require_option(block_ops > 0 && block_ops <= kMaxBlockOps, "block-ops", "in 1..100000000",
                 static_cast<double>(block_ops));
  const EnergyTable table = load_energy(vm["energy"].as<std::string>());
  if (table.gate_toggle_fj.empty()) throw Error(vm["energy"].as<std::string>() + ": no gate_toggle_fj table");
  const std::string unit = unit_name(vm), source = vm["operands"].as<std::string>();
  if (vm.count("measured")) {
    const std::string path = vm["measured"].as<std::string>();
    for (const Activity& e : load_activity(path).entries) {
      if (e.unit == unit && e.operands == source) {
        std::printf("%s on %s operands, as measured in %s\n", unit.c_str(), source.c_str(), path.c_str());
        print_energy(table, vm["energy"].as<std::string>(), e);
        return 0;
      }
    }
    throw Error(path + ": no measurement of " + unit + " on " + source + " operands");
  }
  const std::uint64_t seed = vm["seed"].as<std::uint64_t>();
  if (std::find(gate_units().begin(), gate_units().end(), unit) == gate_units().end()) {
    std::string built;
    for (const std::string& g : gate_units()) built += (built.empty() ? "" : ", ") + g;
    throw Error("no gate-level model of '" + unit + "' in this build (built: " + built +
                "; configure with -DNIBBLE_GATE_CONFIGS=all for every configuration)");
  }
  Outputs outputs;
  const std::string json_path = vm.count("json") ? outputs.add(vm["json"].as<std::string>()) : "";
  const auto [a, b] = operand_values(source, seed);
  const bool random = source == "random";
  const ActivityReport r = run_activity(unit, random ? nullptr : &a, random ? nullptr : &b, block_ops, seed);

  Activity activity{unit, source, static_cast<double>(r.cycles) / static_cast<double>(r.block_ops), {}, {}};
  for (const CellToggles& c : r.cells) {
    activity.toggles_per_op[c.type] = static_cast<double>(c.toggles) / static_cast<double>(r.block_ops);
    activity.cells[c.type] = c.cells;
  }
  std::printf("%s on %s operands: %lld block ops, %lld cycles, %lld mismatches against the golden model\n",
              unit.c_str(), source.c_str(), static_cast<long long>(r.block_ops), static_cast<long long>(r.cycles),
              static_cast<long long>(r.mismatches));
  print_energy(table, vm["energy"].as<std::string>(), activity);
  if (!json_path.empty()) {
    nlohmann::json doc = {{"unit", unit}, {"operands", source}, {"block_ops", r.block_ops},
                          {"seed", seed}, {"cycles_per_op", activity.cycles_per_op}, {"mismatches", r.mismatches}};
    for (const CellToggles& c : r.cells) {
      doc["cells"][c.type] = {{"count", c.cells}, {"toggles_per_op", activity.toggles_per_op[c.type]}};
    }
    std::ofstream(json_path) << doc.dump(1) << "\n";
  }
  if (r.mismatches) {
    std::printf("first mismatch: %s\n", r.first_mismatch.c_str());
    return 1;
  }
  outputs.commit();
  return 0;
}

}  // namespace nibble::cli

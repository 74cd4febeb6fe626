#include <cstdio>

#include "command.h"
#include "nibble/workloads/model.h"

namespace nibble::cli {

int run_models(const Args& args) {
  boost::program_options::options_description options("models options");
  boost::program_options::variables_map vm;
  if (!parse_options("models", args, options, vm)) return 0;
  std::printf("%-14s %12s %7s %7s %7s %6s %4s %4s %8s %7s\n", "model", "parameters", "hidden", "inter", "layers",
              "heads", "kv", "hd", "vocab", "experts");
  for (const std::string& name : zoo_models()) {
    const ModelConfig m = load_model(name);
    std::printf("%-14s %11.2fB %7lld %7lld %7lld %6lld %4lld %4lld %8lld %7s\n", name.c_str(),
                static_cast<double>(m.parameters()) * 1e-9, static_cast<long long>(m.hidden_size),
                static_cast<long long>(m.intermediate_size), static_cast<long long>(m.num_hidden_layers),
                static_cast<long long>(m.num_attention_heads), static_cast<long long>(m.num_key_value_heads),
                static_cast<long long>(m.head_dim), static_cast<long long>(m.vocab_size),
                m.moe() ? (std::to_string(m.num_experts_per_tok) + "/" + std::to_string(m.num_local_experts)).c_str()
                        : "-");
  }
  return 0;
}

}  // namespace nibble::cli

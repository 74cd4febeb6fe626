// Model descriptions (a config.json; the same bytes as nibble's YAML); a model that loads
// expands into the operators of a short prefill and a decode step.
#include "fuzz_input.h"
#include "nibble/workloads/model.h"

namespace {

void expand(const nibble::ModelConfig& model) {
  model.parameters();
  nibble::step_operators(model, 2, 3, 5, 1);
  nibble::weight_tensors(model);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  nibble::fuzz::expect_clean([&] { expand(nibble::load_model(nibble::fuzz::write_input(data, size, ".json"))); });
  nibble::fuzz::expect_clean([&] { expand(nibble::load_model(nibble::fuzz::write_input(data, size, ".yaml"))); });
  return 0;
}

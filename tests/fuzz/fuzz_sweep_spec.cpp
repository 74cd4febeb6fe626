// Sweep specs: a spec that reads expands into its points (at most a few thousand, else the
// reader refuses it), without evaluating them.
#include "fuzz_input.h"
#include "nibble/sim/design_space.h"
#include "nibble/sim/sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  static const auto space = nibble::make_design_space();
  const std::string path = nibble::fuzz::write_input(data, size, ".yaml");
  nibble::fuzz::expect_clean([&] {
    const nibble::SweepSpec spec = nibble::load_sweep_spec(path, *space);
    nibble::expand_points(spec, *space);
  });
  return 0;
}

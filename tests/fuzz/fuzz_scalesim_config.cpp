// SCALE-Sim .cfg files; a config that loads also runs a small GEMM through the systolic mode.
#include "fuzz_input.h"
#include "nibble/sim/systolic.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".cfg");
  nibble::fuzz::expect_clean([&] {
    const nibble::SystolicConfig config = nibble::load_scalesim_config(path);
    nibble::simulate_systolic(config, {"fuzz", 5, 7, 3});
  });
  return 0;
}

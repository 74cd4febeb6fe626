// GEMM lists (name,M,N,K or a SCALE-Sim topology); the first small GEMM read then runs through
// the systolic mode on a small array.
#include "fuzz_input.h"
#include "nibble/sim/systolic.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".csv");
  nibble::fuzz::expect_clean([&] {
    nibble::SystolicConfig config;
    config.rows = config.cols = 4;
    bool simulated = false;
    for (const nibble::Gemm& g : nibble::load_gemms(path)) {
      if (g.m <= 0 || g.n <= 0 || g.k <= 0) __builtin_trap();  // the reader promises positive sizes
      // The systolic mode steps every cycle, so one GEMM of a few thousand MACs per input checks
      // the hand-off from the reader; simulating every line made the fuzzer learn that repeated
      // lines cost nothing in coverage and slowed it to a few hundred inputs a second.
      if (!simulated && g.m <= 16 && g.n <= 16 && g.k <= 16) {
        nibble::simulate_systolic(config, g);
        simulated = true;
      }
    }
  });
  return 0;
}

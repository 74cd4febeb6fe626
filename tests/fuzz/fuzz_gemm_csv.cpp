// GEMM lists (name,M,N,K or a SCALE-Sim topology); each GEMM read then runs through the
// systolic mode on a small array, whose size limits must turn huge GEMMs into errors.
#include "fuzz_input.h"
#include "nibble/sim/systolic.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".csv");
  nibble::fuzz::expect_clean([&] {
    nibble::SystolicConfig config;
    config.rows = config.cols = 4;
    for (const nibble::Gemm& g : nibble::load_gemms(path)) {
      if (g.m <= 0 || g.n <= 0 || g.k <= 0) __builtin_trap();  // the reader promises positive sizes
      // Beyond a few thousand MACs a run would only spend the fuzzer's time.
      if (g.m <= 64 && g.n <= 64 && g.k <= 64) nibble::simulate_systolic(config, g);
    }
  });
  return 0;
}

// Hardware descriptions (YAML); a description that loads also times a small GEMM.
#include "fuzz_input.h"
#include "nibble/models/registry.h"
#include "nibble/sim/accelerator.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".yaml");
  nibble::fuzz::expect_clean([&] {
    const nibble::HardwareConfig hw = nibble::load_hardware(path);
    static const auto format = nibble::make_format("mxfp4");
    nibble::simulate_gemm(hw, {"fuzz", 64, 64, 64}, *format, *format);
  });
  return 0;
}

// Energy-per-event tables (YAML).
#include "fuzz_input.h"
#include "nibble/sim/energy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".yaml");
  nibble::fuzz::expect_clean([&] {
    const nibble::EnergyTable table = nibble::load_energy(path);
    for (std::int64_t bytes : {std::int64_t{1}, std::int64_t{1} << 20, std::int64_t{1} << 40}) {
      table.sram_pj_per_byte(bytes);
    }
  });
  return 0;
}

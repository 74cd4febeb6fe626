// The RTL-derived tables the simulator reads (JSON): area.json and activity.json. The same
// bytes go to both readers; a table that loads is also used as the energy model uses it.
#include "fuzz_input.h"
#include "nibble/sim/energy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".json");
  nibble::fuzz::expect_clean([&] { nibble::load_area(path); });
  nibble::fuzz::expect_clean([&] {
    const nibble::ActivityTable activity = nibble::load_activity(path);
    nibble::EnergyTable energy;  // one figure per gate: the readers, not the prices, are fuzzed
    for (const char* gate : {"NOT", "NAND", "NOR", "AND", "OR", "ANDNOT", "ORNOT", "AOI3", "OAI3",
                             "AOI4", "OAI4", "XOR", "XNOR", "MUX", "DFF"}) {
      energy.gate_toggle_fj[gate] = 1.0;
    }
    energy.flip_flop_clock_fj = 1.0;
    for (const nibble::Activity& entry : activity.entries) nibble::block_op_pj(energy, entry);
    nibble::find_activity(activity, "nvfp4", "nvfp4");
  });
  return 0;
}

// `nibble sim --systemc`: the GEMMs' tile schedules replayed by the SystemC shell. SystemC
// elaborates a design through sc_main, so the shell runs inside sc_elab_and_sim.
#include <cstdlib>

#include "nibble/models/error.h"
#include "nibble/sim/accelerator_sc.h"

namespace {

struct ShellRun {
  const nibble::HardwareConfig* hw = nullptr;
  const std::vector<nibble::GemmStats>* schedule = nullptr;
  std::vector<std::int64_t> cycles;
};
ShellRun* current_run = nullptr;  // handed to sc_main, which takes no arguments of ours

}  // namespace

int sc_main(int, char*[]) {
  nibble::AcceleratorTop top("accelerator", *current_run->hw, *current_run->schedule);
  sc_core::sc_start();
  current_run->cycles = top.gemm_cycles;
  return 0;
}

namespace nibble::cli {

std::vector<std::int64_t> systemc_cycles(const HardwareConfig& hw, const std::vector<GemmStats>& schedule) {
  ShellRun run{&hw, &schedule, {}};
  current_run = &run;
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  char name[] = "nibble";
  char* argv[] = {name, nullptr};
  const int status = sc_core::sc_elab_and_sim(1, argv);
  current_run = nullptr;
  if (status != 0 || run.cycles.size() != schedule.size()) throw Error("sim: the SystemC shell failed");
  return run.cycles;
}

}  // namespace nibble::cli

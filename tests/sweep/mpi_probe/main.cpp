// `sweep_mpi_probe SPEC DIR`: the MPI sweep with the fake design space, for the MPI test
// (mpirun starts it as several ranks; `nibble sweep` needs the simulator's design space).
#include <cstdio>

#include "../fake_design_space.h"
#include "nibble/sim/sweep_mpi.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: sweep_mpi_probe SPEC DIR\n");
    return 2;
  }
  try {
    const nibble::FakeDesignSpace space;
    nibble::SweepOptions options;
    options.out_dir = argv[2];
    const auto result = nibble::run_sweep_mpi(nibble::load_sweep_spec(argv[1], space), space, options, {});
    if (result.root) std::printf("ok %lld failed %lld\n", static_cast<long long>(result.summary.ok),
                                 static_cast<long long>(result.summary.failed));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sweep_mpi_probe: error: %s\n", e.what());
    return 2;
  }
}

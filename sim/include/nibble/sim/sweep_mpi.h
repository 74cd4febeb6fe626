#pragma once
// Sweeps over MPI ranks (`mpirun -np N nibble sweep ...`): rank 0 opens the store, fills the
// accuracy table, hands out points one at a time to whichever rank asks next and is the only
// writer; the other ranks evaluate. Built when CMake finds an MPI; without one, a run under
// mpirun is refused rather than run N times over.
#include <functional>

#include "nibble/sim/sweep_engine.h"

namespace nibble {

// The rank count mpirun (OpenMPI, or a PMI launcher such as srun) announced to this process;
// 1 when it was not started by one.
int mpi_ranks_from_environment();

struct MpiSweepResult {
  bool root = false;      // rank 0: `summary` describes the sweep
  SweepSummary summary;   // other ranks: summary.ok + failed = the points this rank evaluated
};

MpiSweepResult run_sweep_mpi(const SweepSpec& spec, const DesignSpace& space, const SweepOptions& options,
                             const std::function<void(const SweepProgress&)>& progress);

}  // namespace nibble

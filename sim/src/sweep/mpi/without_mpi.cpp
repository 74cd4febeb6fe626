#include "nibble/models/error.h"
#include "nibble/sim/sweep_mpi.h"

namespace nibble {

MpiSweepResult run_sweep_mpi(const SweepSpec&, const DesignSpace&, const SweepOptions&,
                             const std::function<void(const SweepProgress&)>&) {
  throw Error("started by mpirun, but this nibble was built without MPI (install libopenmpi-dev "
              "and reconfigure); use --threads or --shard instead");
}

}  // namespace nibble

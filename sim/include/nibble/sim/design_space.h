#pragma once
// The sweep's view of the simulator: hardware keys through the parameter schema (hardware.h),
// workload keys through workloads' WorkloadSpec, and evaluate_point with the shipped energy
// table and area data (design_point.h), loaded once per process.
#include <memory>

#include "nibble/sim/sweep.h"

namespace nibble {

std::unique_ptr<DesignSpace> make_design_space();

}  // namespace nibble

#include <cstdlib>
#include <string>

#include "nibble/sim/sweep_mpi.h"

namespace nibble {

int mpi_ranks_from_environment() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    if (const char* value = std::getenv(name)) {
      try {
        return std::max(1, std::stoi(value));
      } catch (const std::exception&) {
      }
    }
  }
  return 1;
}

}  // namespace nibble

// MPI: rank 0 dispatches and writes, two ranks evaluate; the rows equal the threaded run's.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "sweep_helpers.h"

namespace nibble {
namespace {

#ifdef NIBBLE_MPIEXEC
TEST(SweepMpi, ThreeRanksEqualThreads) {
  const std::string spec = write_spec("small.yaml", kSmallSpec);
  const std::string threads = temp_path("mpi_threads"), ranks = temp_path("mpi_ranks");
  std::filesystem::remove_all(threads);
  std::filesystem::remove_all(ranks);
  run(spec, threads);
  const std::string log = temp_path("mpi.log");
  const std::string command = std::string(NIBBLE_MPIEXEC) + " -np 3 --oversubscribe --allow-run-as-root " +
                              NIBBLE_MPI_PROBE + " " + spec + " " + ranks + " >" + log + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find("ok 36 failed 36"), std::string::npos) << output;
  EXPECT_EQ(result_rows(ranks), result_rows(threads));
}
#endif

}  // namespace
}  // namespace nibble

// Sweeps through `nibble sweep` with the real design point (evaluate_point): the rows hold what
// evaluate_point gives for the design built by hand, and MPI ranks equal threads.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "nibble/sim/design_point.h"
#include "nibble/sim/design_space.h"
#include "nibble/sim/hardware.h"
#include "sweep_helpers.h"

namespace nibble {
namespace {

std::string simulator_spec() {
  return write_spec("simulator.yaml", std::string("nibble_sweep: 1\nname: simulator\nhardware: ") + NIBBLE_SOURCE_DIR +
                                          "/sim/configs/example_hw.yaml\n"
                                          "workload: {model: llama-2-7b, phase: decode, batch: 1, context: 512}\n"
                                          "formats: {w: nvfp4, a: nvfp4}\n"
                                          "axes:\n  formats.w: [mxfp4, nvfp4]\n  array.rows: [8, 16]\n"
                                          "  workload.phase: [prefill, decode]\n"
                                          "objectives: {minimize: [energy_per_token_uj, latency_ms]}\n");
}

int system_status(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SweepSimulator, RowsHoldEvaluatePointOfTheDesign) {
  const std::string dir = temp_path("simulator");
  std::filesystem::remove_all(dir);
  ASSERT_EQ(system_status(std::string(NIBBLE_CLI) + " sweep " + simulator_spec() + " --out " + dir + " --threads 2 >/dev/null 2>&1"), 0);
  const ResultTable t = ResultsStore::open_for_reading(dir)->results(false);
  ASSERT_EQ(t.rows.size(), 8u);
  const auto at = [&](const std::vector<nlohmann::json>& row, const char* c) { return row[static_cast<size_t>(t.column(c))]; };
  int checked = 0;
  for (const auto& row : t.rows) {
    // mxfp4 weights with nvfp4 activations: K-blocks of 32 and 16 cannot meet in one DPU.
    if (at(row, "format_w") == "mxfp4") {
      EXPECT_EQ(at(row, "status"), "failed");
      EXPECT_NE(at(row, "error").get<std::string>().find("mxfp4"), std::string::npos);
      continue;
    }
    ASSERT_EQ(at(row, "status"), "ok") << at(row, "error");
    HardwareConfig hw = load_hardware(std::string(NIBBLE_SOURCE_DIR) + "/sim/configs/example_hw.yaml");
    hw.rows = at(row, "array.rows").get<int>();
    WorkloadSpec workload;
    workload.context = 512;
    workload.phase = at(row, "workload.phase").get<std::string>();
    const PointResult expected = evaluate_point(hw, workload, {"nvfp4", "nvfp4", ""}, default_tables());
    for (const auto& [name, value] : point_metrics(expected)) EXPECT_DOUBLE_EQ(at(row, name.c_str()).get<double>(), value) << name;
    EXPECT_EQ(at(row, "bound"), expected.bound);
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

#ifdef NIBBLE_MPIEXEC
TEST(SweepSimulator, MpiRanksEqualThreads) {
  const std::string spec = simulator_spec();
  const std::string threads = temp_path("simulator_threads"), ranks = temp_path("simulator_ranks");
  std::filesystem::remove_all(threads);
  std::filesystem::remove_all(ranks);
  ASSERT_EQ(system_status(std::string(NIBBLE_CLI) + " sweep " + spec + " --out " + threads + " >/dev/null 2>&1"), 0);
  ASSERT_EQ(system_status(std::string(NIBBLE_MPIEXEC) + " -np 3 --oversubscribe --allow-run-as-root " + NIBBLE_CLI +
                          " sweep " + spec + " --out " + ranks + " >/dev/null 2>&1"), 0);
  EXPECT_EQ(result_rows(ranks), result_rows(threads));
}
#endif

}  // namespace
}  // namespace nibble

namespace nibble {
namespace {

TEST(SweepSimulator, SchemaRangesAreCheckedBeforeAnyPointRuns) {
  const std::string spec = write_spec("range.yaml", std::string("nibble_sweep: 1\nname: range\nhardware: ") + NIBBLE_SOURCE_DIR +
                                                        "/sim/configs/example_hw.yaml\nformats: {w: nvfp4, a: nvfp4}\n"
                                                        "axes:\n  array.rows: [16, 0]\n");
  const std::string out = temp_path("range_out"), err = temp_path("range_err");
  std::filesystem::remove_all(out);
  EXPECT_EQ(system_status(std::string(NIBBLE_CLI) + " sweep " + spec + " --out " + out + " 2>" + err), 2);
  std::ifstream in(err);
  const std::string message((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(message.rfind("nibble: error: " + spec + ":6: ", 0), 0u) << message;
  EXPECT_NE(message.find("array.rows"), std::string::npos) << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
  EXPECT_FALSE(std::filesystem::exists(out));  // nothing ran, nothing was created
}

TEST(SweepSimulator, DryRunPrintsTheCountAndTheFirstPoints) {
  const std::string out = temp_path("dry_run");
  ASSERT_EQ(system_status(std::string(NIBBLE_CLI) + " sweep " + simulator_spec() + " --dry-run --shard 1/2 >" + out), 0);
  std::ifstream in(out);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto space = make_design_space();
  SweepOptions half;
  half.shard = 1;
  half.shards = 2;
  const auto points = select_points(expand_points(load_sweep_spec(simulator_spec(), *space), *space), half);
  EXPECT_EQ(text.rfind("simulator: " + std::to_string(points.size()) + " points\n", 0), 0u) << text;
  EXPECT_NE(text.find(points[0].id.substr(0, 12)), std::string::npos) << text;
}

}  // namespace
}  // namespace nibble

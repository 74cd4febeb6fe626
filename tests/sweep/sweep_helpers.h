#pragma once
// Shared by the sweep tests: specs written to a per-process temp folder, runs of the engine
// with the fake design space, and the rows of a results database as comparable text.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fake_design_space.h"
#include "nibble/sim/sweep_engine.h"

namespace nibble {

inline std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("nibble_sweep_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// Writes a spec (and the hardware file it names) and returns its path.
inline std::string write_spec(const std::string& name, const std::string& body) {
  std::ofstream(temp_path("hw.yaml")) << "# the fake design space reads no keys\n";
  const std::string path = temp_path(name);
  std::ofstream(path) << body;
  return path;
}

// A small sweep: 3 formats x 2 zipped arrays x 3 buffers x 2 phases x 2 batches (one failing).
inline const char* kSmallSpec = R"(nibble_sweep: 1
name: small
hardware: hw.yaml
workload: {model: tiny, phase: decode, batch: 1}
formats: {w: nvfp4, a: nvfp4, kv: mxfp8_e4m3}
axes:
  formats: [{w: mxfp4, a: mxfp4}, {w: nvfp4, a: nvfp4}, {w: mxint8, a: mxint8}]
  array.rows: [16, 32]
  array.cols: [16, 32]
  buffers.w_kib: {from: 256, to: 1024, factor: 2}
  workload.phase: [prefill, decode]
  workload.batch: [1, 13]
zip: [[array.rows, array.cols]]
objectives: {minimize: [energy_per_token_uj, area_mm2, latency_ms]}
)";
inline constexpr int kSmallSpecPoints = 3 * 2 * 3 * 2 * 2;

// Every row of DIR's results as text, without the columns that legitimately differ between
// runs (time taken, the commit of the binary).
inline std::vector<std::string> result_rows(const std::string& dir) {
  const ResultTable table = ResultsStore::open_for_reading(dir)->results(/*with_json=*/true);
  std::vector<std::string> rows;
  for (const auto& row : table.rows) {
    std::string text;
    for (size_t i = 0; i < row.size(); ++i) {
      if (table.columns[i] == "elapsed_s" || table.columns[i] == "git_commit") continue;
      text += table.columns[i] + "=" + row[i].dump() + ";";
    }
    rows.push_back(text);
  }
  return rows;
}

inline SweepSummary run(const std::string& spec_path, const std::string& dir, SweepOptions options = {},
                        const DesignSpace& space = FakeDesignSpace()) {
  const SweepSpec spec = load_sweep_spec(spec_path, space);
  options.out_dir = dir;
  return run_sweep(spec, space, options, {}, threaded_runner(space, options.threads));
}

}  // namespace nibble

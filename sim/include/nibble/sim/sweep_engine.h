#pragma once
// Runs a sweep into DIR/results.sqlite: accuracy first (once per distinct format), then every
// selected point, evaluated on worker threads (or MPI ranks) and written by one writer thread in
// batched transactions. A failed point is recorded and the sweep goes on. Results do not depend
// on the thread, shard or rank count, and a sweep killed at any moment resumes where its last
// transaction ended.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nibble/sim/sweep.h"
#include "nibble/sim/sweep_store.h"

namespace nibble {

struct SweepOptions {
  std::string out_dir;
  int threads = 0;         // 0: every core
  int shard = 0, shards = 1;
  bool resume = false;     // continue a database: skip ok points, redo failed ones
  std::int64_t limit = -1; // the first N points of the (shard's) selection; -1: all
};

struct SweepProgress {
  std::int64_t done = 0, total = 0, failed = 0;
  double seconds = 0;
};

struct SweepSummary {
  std::int64_t selected = 0;  // points of this shard, after --limit
  std::int64_t skipped = 0;   // already ok in the database (--resume)
  std::int64_t ok = 0, failed = 0;
  int accuracy_evaluations = 0;
  double seconds = 0;
};

// The points a run takes: shard, then limit, in enumeration order.
std::vector<SweepPoint> select_points(std::vector<SweepPoint> points, const SweepOptions& options);

// Evaluates one point; a nibble::Error (or any exception) makes a failed row, never a throw.
PointRow evaluate_sweep_point(const DesignSpace& space, const SweepPoint& point);

// Delivers the rows of points[todo[i]] for every i, each exactly once, from any thread.
using RowSink = std::function<void(PointRow)>;
using PointRunner = std::function<void(const std::vector<SweepPoint>& points,
                                       const std::vector<size_t>& todo, const RowSink& sink)>;
// Worker threads taking points one at a time (0: every core).
PointRunner threaded_runner(const DesignSpace& space, int threads);

// Errors (before any point runs): the directory is locked, holds another sweep, or holds
// results without --resume; a bad shard.
SweepSummary run_sweep(const SweepSpec& spec, const DesignSpace& space, const SweepOptions& options,
                       const std::function<void(const SweepProgress&)>& progress,
                       const PointRunner& runner);

}  // namespace nibble

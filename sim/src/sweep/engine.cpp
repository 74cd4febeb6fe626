#include "nibble/sim/sweep_engine.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "nibble/models/error.h"
#include "nibble/models/parallel.h"
#include "nibble/sim/accuracy_source.h"

namespace nibble {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The one writer: rows from any thread go into a queue, a thread commits them in batches (one
// transaction per batch keeps SQLite fast; a batch a kill interrupts is rolled back whole).
class BatchWriter {
 public:
  BatchWriter(ResultsStore& store, std::int64_t total,
              const std::function<void(const SweepProgress&)>& progress)
      : store_(store), progress_(progress), start_(Clock::now()) {
    counts_.total = total;
    thread_ = std::thread([this] { loop(); });
  }
  ~BatchWriter() { finish(); }

  void push(PointRow row) {
    const std::lock_guard lock(mutex_);
    queue_.push_back(std::move(row));
    if (queue_.size() >= kBatchRows) ready_.notify_one();
  }

  // Flushes and stops the writer; rethrows a write failure.
  SweepProgress finish() {
    {
      const std::lock_guard lock(mutex_);
      closing_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    return counts_;
  }

 private:
  static constexpr size_t kBatchRows = 512;
  static constexpr auto kBatchDelay = std::chrono::milliseconds(250);

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait_for(lock, kBatchDelay, [&] { return closing_ || queue_.size() >= kBatchRows; });
      std::vector<PointRow> batch;
      batch.swap(queue_);
      const bool last = closing_;
      lock.unlock();
      if (!batch.empty() && !failure_) {
        try {
          store_.write(batch);
        } catch (...) {
          failure_ = std::current_exception();
        }
        for (const PointRow& row : batch) counts_.failed += !row.ok;
        counts_.done += static_cast<std::int64_t>(batch.size());
        counts_.seconds = seconds_since(start_);
        if (progress_) progress_(counts_);
      }
      lock.lock();
      if (last && queue_.empty()) return;
    }
  }

  ResultsStore& store_;
  const std::function<void(const SweepProgress&)>& progress_;
  const Clock::time_point start_;
  SweepProgress counts_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<PointRow> queue_;
  bool closing_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

// Fills the accuracy table for every format the points use that it does not hold yet.
int fill_accuracy(const SweepSpec& spec, const std::vector<SweepPoint>& points, ResultsStore& store,
                  int threads) {
  if (spec.accuracy.empty()) return 0;
  const std::string source = canonical_json(spec.accuracy);
  std::set<std::string> formats;
  for (const SweepPoint& p : points) {
    for (const char* role : kFormatRoles) formats.insert(p.design.at("formats").at(role).get<std::string>());
  }
  std::vector<std::string> missing;
  for (const std::string& f : formats) {
    if (!store.has_accuracy(f, source)) missing.push_back(f);
  }
  if (missing.empty()) return 0;
  const auto evaluator = make_accuracy_source(spec.accuracy, std::filesystem::path(spec.path).parent_path().string());
  std::vector<AccuracyResult> results(missing.size());
  parallel_for(static_cast<std::int64_t>(missing.size()), threads,
               [&](std::int64_t i) { results[i] = evaluator->evaluate(missing[i]); });
  for (size_t i = 0; i < missing.size(); ++i) store.write_accuracy(missing[i], source, results[i]);
  return static_cast<int>(missing.size());
}

}  // namespace

std::vector<SweepPoint> select_points(std::vector<SweepPoint> points, const SweepOptions& options) {
  if (options.shards < 1 || options.shard < 0 || options.shard >= options.shards) {
    throw Error("shard " + std::to_string(options.shard) + "/" + std::to_string(options.shards) +
                " is not valid (expected i/N with 0 <= i < N)");
  }
  std::vector<SweepPoint> selected;
  for (SweepPoint& p : points) {
    if (options.limit >= 0 && static_cast<std::int64_t>(selected.size()) >= options.limit) break;
    if (in_shard(p.id, options.shard, options.shards)) selected.push_back(std::move(p));
  }
  return selected;
}

PointRow evaluate_sweep_point(const DesignSpace& space, const SweepPoint& point) {
  PointRow row{point.id, point.index, false, "", point.design, {}, 0};
  const Clock::time_point start = Clock::now();
  try {
    row.evaluation = space.evaluate(point.design);
    if (row.evaluation.metrics.size() != space.metrics().size()) {
      throw Error("the evaluation returned " + std::to_string(row.evaluation.metrics.size()) +
                  " metrics, expected " + std::to_string(space.metrics().size()));
    }
    row.ok = true;
  } catch (const std::exception& e) {
    row.error = e.what();
    row.evaluation = {};
  }
  row.elapsed_s = seconds_since(start);
  return row;
}

PointRunner threaded_runner(const DesignSpace& space, int threads) {
  return [&space, threads](const std::vector<SweepPoint>& points, const std::vector<size_t>& todo,
                           const RowSink& sink) {
    parallel_for(static_cast<std::int64_t>(todo.size()), threads,
                 [&](std::int64_t i) { sink(evaluate_sweep_point(space, points[todo[i]])); });
  };
}

SweepSummary run_sweep(const SweepSpec& spec, const DesignSpace& space, const SweepOptions& options,
                       const std::function<void(const SweepProgress&)>& progress,
                       const PointRunner& runner) {
  const Clock::time_point start = Clock::now();
  const std::vector<SweepPoint> points = select_points(expand_points(spec, space), options);
  const auto store = ResultsStore::open_for_writing(options.out_dir, StoreLayout::of(spec, space));
  SweepSummary summary;
  summary.selected = static_cast<std::int64_t>(points.size());
  const std::int64_t stored = store->point_count();
  if (stored > 0 && !options.resume) {
    throw Error(options.out_dir + " already holds " + std::to_string(stored) +
                " points of this sweep; pass --resume to continue it, or choose another --out");
  }
  const std::set<std::string> done = options.resume ? store->ok_ids() : std::set<std::string>{};
  std::vector<size_t> todo;
  for (size_t i = 0; i < points.size(); ++i) {
    if (!done.count(points[i].id)) todo.push_back(i);
  }
  summary.skipped = summary.selected - static_cast<std::int64_t>(todo.size());
  summary.accuracy_evaluations = fill_accuracy(spec, points, *store, options.threads);

  BatchWriter writer(*store, static_cast<std::int64_t>(todo.size()), progress);
  runner(points, todo, [&](PointRow row) { writer.push(std::move(row)); });
  const SweepProgress counts = writer.finish();
  summary.failed = counts.failed;
  summary.ok = counts.done - counts.failed;
  summary.seconds = seconds_since(start);
  return summary;
}

}  // namespace nibble

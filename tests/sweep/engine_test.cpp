// The engine and the store: failures recorded, thread counts, resume after SIGKILL, shards and
// merge, locks, corrupted databases, accuracy once per format.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "expect_error.h"
#include "nibble/workloads/evaluate.h"
#include "sweep_helpers.h"

namespace nibble {
namespace {

std::string fresh_dir(const std::string& name) {
  const std::string dir = temp_path(name);
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(SweepEngine, FailedPointsAreRecordedAndTheSweepFinishes) {
  const std::string dir = fresh_dir("failures");
  const SweepSummary s = run(write_spec("small.yaml", kSmallSpec), dir);
  EXPECT_EQ(s.selected, kSmallSpecPoints);
  EXPECT_EQ(s.failed, kSmallSpecPoints / 2);  // every batch-13 point
  EXPECT_EQ(s.ok, kSmallSpecPoints / 2);
  const ResultTable t = ResultsStore::open_for_reading(dir)->results(false);
  ASSERT_EQ(t.rows.size(), size_t{kSmallSpecPoints});
  const int status = t.column("status"), error = t.column("error"), batch = t.column("workload.batch");
  const int latency = t.column("latency_ms"), rows = t.column("array.rows");
  ASSERT_GE(status, 0);
  ASSERT_GE(latency, 0);
  ASSERT_GE(rows, 0);
  for (const auto& row : t.rows) {
    if (row[static_cast<size_t>(batch)] == 13) {
      EXPECT_EQ(row[static_cast<size_t>(status)], "failed");
      EXPECT_EQ(row[static_cast<size_t>(error)], "batch 13 does not fit the buffers");
      EXPECT_TRUE(row[static_cast<size_t>(latency)].is_null());
    } else {
      EXPECT_EQ(row[static_cast<size_t>(status)], "ok");
      EXPECT_TRUE(row[static_cast<size_t>(latency)].is_number());
    }
  }
  // Axis values have their own columns with their own types.
  EXPECT_TRUE(t.rows[0][static_cast<size_t>(rows)].is_number_integer());
  EXPECT_EQ(t.rows[0][static_cast<size_t>(t.column("format_w"))], "mxfp4");
}

TEST(SweepEngine, ResultsDoNotDependOnTheThreadCount) {
  const std::string spec = write_spec("small.yaml", kSmallSpec);
  SweepOptions one, four;
  one.threads = 1;
  four.threads = 4;
  run(spec, fresh_dir("threads1"), one);
  run(spec, fresh_dir("threads4"), four);
  EXPECT_EQ(result_rows(temp_path("threads1")), result_rows(temp_path("threads4")));
}

TEST(SweepEngine, RefusesToMixRunsAndDirectories) {
  const std::string spec = write_spec("small.yaml", kSmallSpec);
  const std::string dir = fresh_dir("mix");
  run(spec, dir);
  expect_error([&] { run(spec, dir); }, {"already holds 72 points", "--resume"});
  const std::string other = write_spec("other.yaml", std::string(kSmallSpec) + "exclude: [{array.rows: 32}]\n");
  SweepOptions resume;
  resume.resume = true;
  expect_error([&] { run(other, dir, resume); }, {"holds the results of another sweep"});
  {
    const auto held = ResultsStore::open_for_writing(fresh_dir("locked"),
                                                     StoreLayout::of(load_sweep_spec(spec, FakeDesignSpace()), FakeDesignSpace()));
    expect_error([&] { run(spec, temp_path("locked"), resume); }, {"is in use by another nibble process"});
  }
  run(spec, temp_path("locked"), resume);  // the lock went with its holder
}

TEST(SweepEngine, CorruptedDatabaseIsDetectedNotOverwritten) {
  const std::string dir = fresh_dir("corrupt");
  std::filesystem::create_directories(dir);
  const std::string garbage(8192, 'x');
  std::ofstream(dir + "/results.sqlite") << garbage;
  SweepOptions resume;
  resume.resume = true;
  expect_error([&] { run(write_spec("small.yaml", kSmallSpec), dir, resume); },
               {"results.sqlite is corrupted or not a SQLite database", "nothing was changed"});
  std::ifstream in(dir + "/results.sqlite");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), garbage);
  expect_error([&] { ResultsStore::open_for_reading(dir); }, {"corrupted"});
}

TEST(SweepEngine, ADatabaseKilledBeforeItsTablesStartsOver) {
  const std::string dir = fresh_dir("no_tables");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/results.sqlite").close();  // what a kill before the first commit leaves
  EXPECT_EQ(run(write_spec("small.yaml", kSmallSpec), dir).selected, kSmallSpecPoints);
  EXPECT_EQ(ResultsStore::open_for_reading(dir)->point_count(), kSmallSpecPoints);
}

TEST(SweepEngine, ResumeRedoesFailedPointsOnly) {
  const std::string dir = fresh_dir("resume_failed");
  const std::string spec = write_spec("small.yaml", kSmallSpec);
  run(spec, dir);
  SweepOptions resume;
  resume.resume = true;
  const SweepSummary s = run(spec, dir, resume);
  EXPECT_EQ(s.skipped, kSmallSpecPoints / 2);
  EXPECT_EQ(s.failed, kSmallSpecPoints / 2);
  EXPECT_EQ(s.ok, 0);
}

TEST(SweepEngine, ResumeAfterSigkillEqualsAnUninterruptedRun) {
  const std::string spec = write_spec("small.yaml", kSmallSpec);
  const std::string whole = fresh_dir("whole"), killed = fresh_dir("killed");
  run(spec, whole);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a slow sweep (20 ms a point, 2 threads: about 0.7 s) to kill midway
    SweepOptions options;
    options.threads = 2;
    run(spec, killed, options, FakeDesignSpace(std::chrono::milliseconds(20)));
    _exit(0);
  }
  std::int64_t stored = 0;
  for (int i = 0; i < 500 && stored < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (std::filesystem::exists(killed + "/results.sqlite")) {
      try {
        stored = ResultsStore::open_for_reading(killed)->point_count();
      } catch (const Error&) {
        stored = 0;  // the tables are being created
      }
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  stored = ResultsStore::open_for_reading(killed)->point_count();
  EXPECT_GE(stored, 10);
  EXPECT_LT(stored, kSmallSpecPoints);  // killed midway, not after the end
  SweepOptions resume;
  resume.resume = true;
  resume.threads = 3;
  const SweepSummary s = run(spec, killed, resume);
  EXPECT_GT(s.skipped, 0);
  EXPECT_EQ(result_rows(killed), result_rows(whole));
}

TEST(SweepEngine, ShardsMergedEqualTheWholeAndMergeIsIdempotent) {
  const std::string spec = write_spec("small.yaml", kSmallSpec);
  const std::string whole = fresh_dir("shard_whole"), merged = fresh_dir("merged");
  run(spec, whole);
  const FakeDesignSpace space;
  const StoreLayout layout = StoreLayout::of(load_sweep_spec(spec, space), space);
  const auto out = ResultsStore::open_for_writing(merged, layout);
  std::int64_t added = 0;
  for (int i = 0; i < 3; ++i) {
    SweepOptions options;
    options.shard = i;
    options.shards = 3;
    const std::string dir = fresh_dir("shard" + std::to_string(i));
    run(spec, dir, options);
    added += out->merge_from(*ResultsStore::open_for_reading(dir));
  }
  EXPECT_EQ(added, kSmallSpecPoints);
  EXPECT_EQ(out->merge_from(*ResultsStore::open_for_reading(temp_path("shard1"))), 0);  // again: nothing new
  EXPECT_EQ(out->merge_from(*ResultsStore::open_for_reading(whole)), 0);
  EXPECT_EQ(result_rows(merged), result_rows(whole));

  // The same id with another result is refused, and nothing of that merge is kept.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((temp_path("shard2") + "/results.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE points SET latency_ms = latency_ms * 2 WHERE status = 'ok'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  expect_error([&] { out->merge_from(*ResultsStore::open_for_reading(temp_path("shard2"))); },
               {"has different results in"});
  EXPECT_EQ(result_rows(merged), result_rows(whole));
}

TEST(SweepEngine, AccuracyIsEvaluatedOncePerFormatAndJoined) {
  const std::string body = std::string(kSmallSpec) +
                           "accuracy: {source: synthetic, distributions: [llm-act, gaussian], rows: 8, cols: 256}\n";
  const std::string spec = write_spec("accuracy.yaml", body);
  const std::string dir = fresh_dir("accuracy");
  const SweepSummary s = run(spec, dir);
  EXPECT_EQ(s.accuracy_evaluations, 4);  // mxfp4, nvfp4, mxint8 and the kv format mxfp8_e4m3
  SweepOptions resume;
  resume.resume = true;
  EXPECT_EQ(run(spec, dir, resume).accuracy_evaluations, 0);  // already in the table

  EvalRequest request;
  request.formats = {"mxfp4", "mxfp8_e4m3"};
  request.distributions = {"llm-act", "gaussian"};
  request.rows = 8;
  request.cols = 256;
  const std::vector<EvalRow> expected = evaluate(request);
  const double mxfp4 = (expected[0].error.qsnr_db + expected[1].error.qsnr_db) / 2;
  const double kv = (expected[2].error.qsnr_db + expected[3].error.qsnr_db) / 2;
  const ResultTable t = ResultsStore::open_for_reading(dir)->results(false);
  const auto at = [&](const std::vector<nlohmann::json>& row, const char* c) { return row[static_cast<size_t>(t.column(c))]; };
  int checked = 0;
  for (const auto& row : t.rows) {
    if (at(row, "format_w") != "mxfp4") continue;
    EXPECT_DOUBLE_EQ(at(row, "accuracy_w_db").get<double>(), mxfp4);
    EXPECT_DOUBLE_EQ(at(row, "accuracy_a_db").get<double>(), mxfp4);
    EXPECT_DOUBLE_EQ(at(row, "accuracy_kv_db").get<double>(), kv);
    EXPECT_DOUBLE_EQ(at(row, "accuracy_db").get<double>(), mxfp4);
    ++checked;
  }
  EXPECT_EQ(checked, kSmallSpecPoints / 3);
}

}  // namespace
}  // namespace nibble

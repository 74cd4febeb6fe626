#pragma once
// A sweep's results: DIR/results.sqlite (SQLite, WAL journal, one writer), a database per
// output directory on local disk (DESIGN.md, "Scale-out": never one file shared over a
// network filesystem). Tables:
//   meta      key/value: schema_version, layout (the sweep's identity, columns and metrics)
//   points    one row per point: id (SHA-256), point_index, status (ok | failed), error, one
//             column per hardware/workload axis, format_w/_a/_kv, one column per metric,
//             bound, point_json, result_json, nibble_version, git_commit, elapsed_s
//   accuracy  one row per (format, source): qsnr_db, detail_json
//   results   a view: points joined with accuracy as accuracy_w_db, accuracy_a_db,
//             accuracy_kv_db and accuracy_db = min(w, a)
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nibble/sim/accuracy_source.h"
#include "nibble/sim/sweep.h"

struct sqlite3;

namespace nibble {

// Everything that fixes a database's tables and meaning; stored once, compared on reopen.
struct StoreLayout {
  nlohmann::json identity;                 // SweepSpec::identity()
  std::vector<std::string> axis_columns;   // SweepSpec::axis_columns()
  std::vector<MetricInfo> metrics;         // DesignSpace::metrics()
  std::string nibble_version;              // ids depend on it: another version is another sweep

  nlohmann::json to_json() const;
  static StoreLayout from_json(const nlohmann::json& j);
  bool has_accuracy() const { return !identity.at("accuracy").empty(); }
  static StoreLayout of(const SweepSpec& spec, const DesignSpace& space);
};

struct PointRow {
  std::string id;
  std::int64_t index = 0;
  bool ok = false;
  std::string error;        // the one-line error of a failed point
  nlohmann::json design;    // the resolved point
  Evaluation evaluation;    // ok points only
  double elapsed_s = 0;
};

// Rows of the results view, every cell as JSON (null for SQL NULL).
struct ResultTable {
  std::vector<std::string> columns;
  std::vector<std::vector<nlohmann::json>> rows;
  int column(const std::string& name) const;  // -1 when absent
};

class ResultsStore {
 public:
  // Opens DIR/results.sqlite for writing, creating DIR and the database when absent, and holds
  // DIR's lock while it lives. Errors (nothing is overwritten): another process holds the
  // lock; the file is not a SQLite database or not nibble's; it was written for another sweep.
  static std::unique_ptr<ResultsStore> open_for_writing(const std::string& dir, const StoreLayout& layout);
  // Opens an existing DIR/results.sqlite read-only.
  static std::unique_ptr<ResultsStore> open_for_reading(const std::string& dir);
  ~ResultsStore();
  ResultsStore(const ResultsStore&) = delete;
  ResultsStore& operator=(const ResultsStore&) = delete;

  const StoreLayout& layout() const { return layout_; }
  const std::string& path() const { return path_; }
  std::int64_t point_count() const;
  std::set<std::string> ok_ids() const;

  // One transaction; a row replaces an earlier one with the same id.
  void write(const std::vector<PointRow>& rows);
  bool has_accuracy(const std::string& format, const std::string& source) const;
  void write_accuracy(const std::string& format, const std::string& source, const AccuracyResult& result);

  // The results view in point order; `with_json` adds point_json and result_json.
  ResultTable results(bool with_json) const;

  // Adds another database's points and accuracy rows (same layout required). A point present in
  // both is kept once; an ok row replaces a failed one; two different results for one id are an
  // Error naming the id. Returns the number of rows added or replaced.
  std::int64_t merge_from(const ResultsStore& other);

 private:
  ResultsStore(std::string path, sqlite3* db, int lock_fd, StoreLayout layout);
  void create_tables();

  std::string path_;
  sqlite3* db_ = nullptr;
  int lock_fd_ = -1;
  StoreLayout layout_;
};

}  // namespace nibble

#include "nibble/sim/sweep_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "nibble/models/error.h"

namespace nibble {
namespace {

constexpr int kStoreSchemaVersion = 1;
constexpr const char* kDatabaseName = "results.sqlite";
constexpr const char* kLockName = "results.lock";

std::string quoted(const std::string& identifier) {
  std::string q = "\"";
  for (const char c : identifier) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string literal(const std::string& text) {
  std::string q = "'";
  for (const char c : text) q += c == '\'' ? std::string("''") : std::string(1, c);
  return q + "'";
}

// One prepared statement; every SQLite failure becomes an Error naming the database.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, const std::string& sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) fail();
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int i, const nlohmann::json& v) {
    int rc;
    if (v.is_null()) rc = sqlite3_bind_null(stmt_, i);
    else if (v.is_number_integer()) rc = sqlite3_bind_int64(stmt_, i, v.get<std::int64_t>());
    else if (v.is_number()) rc = sqlite3_bind_double(stmt_, i, v.get<double>());
    else if (v.is_boolean()) rc = sqlite3_bind_int(stmt_, i, v.get<bool>());
    else if (v.is_string()) rc = sqlite3_bind_text(stmt_, i, v.get_ref<const std::string&>().c_str(), -1, SQLITE_TRANSIENT);
    else rc = sqlite3_bind_text(stmt_, i, v.dump().c_str(), -1, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) fail();
  }
  void bind_double(int i, double v) {
    // NaN is SQL NULL (SQLite stores no NaN); infinities are kept.
    if ((std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v)) != SQLITE_OK) fail();
  }
  // Steps once: true while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail();
    return false;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  void run_reset() {
    step();
    reset();
  }
  int columns() const { return sqlite3_column_count(stmt_); }
  std::string name(int i) const { return sqlite3_column_name(stmt_, i); }
  nlohmann::json cell(int i) const {
    switch (sqlite3_column_type(stmt_, i)) {
      case SQLITE_INTEGER: return sqlite3_column_int64(stmt_, i);
      case SQLITE_FLOAT: return sqlite3_column_double(stmt_, i);
      case SQLITE_TEXT: return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i)));
      default: return nullptr;
    }
  }
  std::vector<nlohmann::json> row() const {
    std::vector<nlohmann::json> cells;
    for (int i = 0; i < columns(); ++i) cells.push_back(cell(i));
    return cells;
  }

 private:
  [[noreturn]] void fail() const { throw Error(path_ + ": " + sqlite3_errmsg(db_)); }
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const std::string& path, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string what = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw Error(path + ": " + what);
  }
}

// The points columns after id, point_index, status, error, in table order.
std::vector<std::string> point_columns(const StoreLayout& layout) {
  std::vector<std::string> columns = layout.axis_columns;
  for (const char* role : kFormatRoles) columns.push_back(std::string("format_") + role);
  for (const MetricInfo& m : layout.metrics) columns.push_back(m.name);
  for (const char* c : {"bound", "point_json", "result_json", "nibble_version", "git_commit", "elapsed_s"}) {
    columns.emplace_back(c);
  }
  return columns;
}

// The columns that make a point's result: two databases disagree when any of them differs.
std::vector<std::string> result_columns(const StoreLayout& layout) {
  std::vector<std::string> columns = {"error", "bound", "point_json", "result_json"};
  for (const MetricInfo& m : layout.metrics) columns.push_back(m.name);
  return columns;
}

int open_lock(const std::string& dir) {
  const std::string path = dir + "/" + kLockName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path + ": cannot create the lock file");
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw Error(dir + " is in use by another nibble process (lock " + path + " is held)");
  }
  return fd;
}

sqlite3* open_database(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    const std::string what = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(path + ": cannot open (" + what + ")");
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

// True for a readable database with no tables at all; anything unreadable is left to
// read_layout to report.
bool without_tables(sqlite3* db, const std::string& path) {
  try {
    Statement tables(db, path, "SELECT count(*) FROM sqlite_master");
    return tables.step() && tables.cell(0) == 0;
  } catch (const Error&) {
    return false;
  }
}

// Reads the layout of an existing database, refusing files that are not nibble's or not whole.
StoreLayout read_layout(sqlite3* db, const std::string& path) {
  const std::string advice = " (move it away to start a new sweep; nothing was changed)";
  try {
    Statement check(db, path, "PRAGMA quick_check");
    if (!check.step() || check.cell(0) != "ok") throw Error("integrity check failed");
  } catch (const Error& e) {
    throw Error(path + " is corrupted or not a SQLite database: " + e.what() + advice);
  }
  try {
    Statement meta(db, path, "SELECT key, value FROM meta");
    std::map<std::string, std::string> values;
    while (meta.step()) values[meta.cell(0).get<std::string>()] = meta.cell(1).get<std::string>();
    if (values["schema_version"] != std::to_string(kStoreSchemaVersion)) {
      throw Error("schema_version '" + values["schema_version"] + "', expected " + std::to_string(kStoreSchemaVersion));
    }
    return StoreLayout::from_json(nlohmann::json::parse(values.at("layout")));
  } catch (const std::exception& e) {
    throw Error(path + " is not a nibble results database: " + e.what() + advice);
  }
}

}  // namespace

nlohmann::json StoreLayout::to_json() const {
  nlohmann::json metrics_json = nlohmann::json::array();
  for (const MetricInfo& m : metrics) {
    metrics_json.push_back({{"name", m.name}, {"energy_part", m.energy_part}});
  }
  return {{"identity", identity}, {"axis_columns", axis_columns}, {"metrics", metrics_json},
          {"nibble_version", nibble_version}};
}

StoreLayout StoreLayout::from_json(const nlohmann::json& j) {
  StoreLayout layout{j.at("identity"), j.at("axis_columns").get<std::vector<std::string>>(), {},
                     j.at("nibble_version")};
  for (const auto& m : j.at("metrics")) {
    layout.metrics.push_back({m.at("name"), m.at("energy_part")});
  }
  return layout;
}

StoreLayout StoreLayout::of(const SweepSpec& spec, const DesignSpace& space) {
  return {spec.identity(), spec.axis_columns(), space.metrics(), nibble::nibble_version()};
}

int ResultTable::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

ResultsStore::ResultsStore(std::string path, sqlite3* db, int lock_fd, StoreLayout layout)
    : path_(std::move(path)), db_(db), lock_fd_(lock_fd), layout_(std::move(layout)) {}

ResultsStore::~ResultsStore() {
  sqlite3_close(db_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

std::unique_ptr<ResultsStore> ResultsStore::open_for_writing(const std::string& dir, const StoreLayout& layout) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create the directory (" + ec.message() + ")");
  const int lock_fd = open_lock(dir);
  const std::string path = dir + "/" + kDatabaseName;
  bool exists = std::filesystem::exists(path);
  sqlite3* db = nullptr;
  try {
    db = open_database(path, SQLITE_OPEN_READWRITE | (exists ? 0 : SQLITE_OPEN_CREATE));
    // A sweep killed before its tables were committed leaves a database without tables.
    if (exists) exists = !without_tables(db, path);
    if (exists) {
      const StoreLayout stored = read_layout(db, path);
      if (stored.to_json() != layout.to_json()) {
        throw Error(path + " holds the results of another sweep (a different spec or nibble version); "
                    "use another --out directory");
      }
    }
  } catch (...) {
    sqlite3_close(db);
    ::close(lock_fd);
    throw;
  }
  std::unique_ptr<ResultsStore> store(new ResultsStore(path, db, lock_fd, layout));
  // WAL: readers (export, report) never block the writer, and a killed writer loses at most
  // the transaction it was in. NORMAL sync is safe against process crashes in WAL mode.
  exec(db, path, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  if (!exists) store->create_tables();
  return store;
}

std::unique_ptr<ResultsStore> ResultsStore::open_for_reading(const std::string& dir) {
  const std::string path = dir + "/" + kDatabaseName;
  if (!std::filesystem::exists(path)) throw Error(path + ": no such file (not a sweep directory?)");
  sqlite3* db = open_database(path, SQLITE_OPEN_READONLY);
  try {
    StoreLayout layout = read_layout(db, path);
    return std::unique_ptr<ResultsStore>(new ResultsStore(path, db, -1, std::move(layout)));
  } catch (...) {
    sqlite3_close(db);
    throw;
  }
}

void ResultsStore::create_tables() {
  std::string points = "CREATE TABLE points (id TEXT PRIMARY KEY, point_index INTEGER NOT NULL, "
                       "status TEXT NOT NULL, error TEXT";
  for (const std::string& c : point_columns(layout_)) points += ", " + quoted(c);
  points += ")";
  const std::string source = literal(canonical_json(layout_.identity.at("accuracy")));
  std::string view = "CREATE VIEW results AS SELECT p.id, p.point_index, p.status, p.error";
  for (const std::string& c : point_columns(layout_)) {
    if (c == "point_json") break;  // the JSON columns go last
    if (c == "bound") {
      if (layout_.has_accuracy()) {
        for (const char* role : kFormatRoles) {
          view += std::string(", acc_") + role + ".qsnr_db AS accuracy_" + role + "_db";
        }
        view += ", min(acc_w.qsnr_db, acc_a.qsnr_db) AS accuracy_db";
      }
    }
    view += ", p." + quoted(c);
  }
  view += ", p.nibble_version, p.git_commit, p.elapsed_s, p.point_json, p.result_json FROM points p";
  if (layout_.has_accuracy()) {
    for (const char* role : kFormatRoles) {
      const std::string alias = std::string("acc_") + role;
      view += " LEFT JOIN accuracy " + alias + " ON " + alias + ".format = p.format_" + role +
              " AND " + alias + ".source = " + source;
    }
  }
  exec(db_, path_,
       "BEGIN; CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); " + points + "; " +
           "CREATE TABLE accuracy (format TEXT NOT NULL, source TEXT NOT NULL, qsnr_db REAL, "
           "detail_json TEXT, PRIMARY KEY (format, source)); " + view + "; " +
           "INSERT INTO meta VALUES ('schema_version', '" + std::to_string(kStoreSchemaVersion) + "'), " +
           "('layout', " + literal(layout_.to_json().dump()) + "); COMMIT");
}

std::int64_t ResultsStore::point_count() const {
  Statement count(db_, path_, "SELECT count(*) FROM points");
  count.step();
  return count.cell(0).get<std::int64_t>();
}

std::set<std::string> ResultsStore::ok_ids() const {
  std::set<std::string> ids;
  Statement select(db_, path_, "SELECT id FROM points WHERE status = 'ok'");
  while (select.step()) ids.insert(select.cell(0).get<std::string>());
  return ids;
}

void ResultsStore::write(const std::vector<PointRow>& rows) {
  const std::vector<std::string> columns = point_columns(layout_);
  std::string sql = "INSERT OR REPLACE INTO points (id, point_index, status, error";
  for (const std::string& c : columns) sql += ", " + quoted(c);
  sql += ") VALUES (?, ?, ?, ?";
  for (size_t i = 0; i < columns.size(); ++i) sql += ", ?";
  sql += ")";
  exec(db_, path_, "BEGIN");
  try {
    Statement insert(db_, path_, sql);
    for (const PointRow& row : rows) {
      int i = 1;
      insert.bind(i++, row.id);
      insert.bind(i++, row.index);
      insert.bind(i++, row.ok ? "ok" : "failed");
      insert.bind(i++, row.ok ? nlohmann::json() : nlohmann::json(row.error));
      for (const std::string& axis : layout_.axis_columns) insert.bind(i++, design_value(row.design, axis));
      for (const char* role : kFormatRoles) insert.bind(i++, row.design.at("formats").at(role));
      for (size_t m = 0; m < layout_.metrics.size(); ++m) {
        if (row.ok) insert.bind_double(i++, row.evaluation.metrics.at(m));
        else insert.bind(i++, nullptr);
      }
      insert.bind(i++, row.ok ? nlohmann::json(row.evaluation.bound) : nlohmann::json());
      insert.bind(i++, canonical_json(row.design));
      insert.bind(i++, row.ok ? nlohmann::json(canonical_json(row.evaluation.detail)) : nlohmann::json());
      insert.bind(i++, nibble_version());
      insert.bind(i++, nibble_git_commit());
      insert.bind_double(i++, row.elapsed_s);
      insert.run_reset();
    }
  } catch (...) {
    exec(db_, path_, "ROLLBACK");
    throw;
  }
  exec(db_, path_, "COMMIT");
}

bool ResultsStore::has_accuracy(const std::string& format, const std::string& source) const {
  Statement select(db_, path_, "SELECT 1 FROM accuracy WHERE format = ? AND source = ?");
  select.bind(1, format);
  select.bind(2, source);
  return select.step();
}

void ResultsStore::write_accuracy(const std::string& format, const std::string& source,
                                  const AccuracyResult& result) {
  Statement insert(db_, path_, "INSERT OR REPLACE INTO accuracy VALUES (?, ?, ?, ?)");
  insert.bind(1, format);
  insert.bind(2, source);
  insert.bind_double(3, result.qsnr_db);
  insert.bind(4, canonical_json(result.detail));
  insert.step();
}

ResultTable ResultsStore::results(bool with_json) const {
  Statement select(db_, path_, "SELECT * FROM results ORDER BY point_index");
  ResultTable table;
  const int n = select.columns() - (with_json ? 0 : 2);  // point_json, result_json are last
  for (int i = 0; i < n; ++i) table.columns.push_back(select.name(i));
  while (select.step()) {
    std::vector<nlohmann::json> row = select.row();
    row.resize(static_cast<size_t>(n));
    table.rows.push_back(std::move(row));
  }
  return table;
}

std::int64_t ResultsStore::merge_from(const ResultsStore& other) {
  if (other.layout_.to_json() != layout_.to_json()) {
    throw Error(other.path_ + " holds another sweep than " + path_ + " (a different spec or nibble version)");
  }
  const std::vector<std::string> compared = result_columns(layout_);
  std::string select_sql = "SELECT id, point_index";
  for (const std::string& c : point_columns(layout_)) select_sql += ", " + quoted(c);
  select_sql += ", status, error FROM points";
  std::string result_sql = "SELECT status";
  for (const std::string& c : compared) result_sql += ", " + quoted(c);
  result_sql += " FROM points WHERE id = ?";

  std::string insert_sql = "INSERT OR REPLACE INTO points (id, point_index";
  for (const std::string& c : point_columns(layout_)) insert_sql += ", " + quoted(c);
  insert_sql += ", status, error) VALUES (?, ?";
  for (size_t i = 0; i < point_columns(layout_).size() + 2; ++i) insert_sql += ", ?";
  insert_sql += ")";

  std::int64_t changed = 0;
  exec(db_, path_, "BEGIN");
  try {
    Statement rows(other.db_, other.path_, select_sql);
    Statement mine(db_, path_, result_sql);
    Statement theirs(other.db_, other.path_, result_sql);
    Statement insert(db_, path_, insert_sql);
    while (rows.step()) {
      const std::vector<nlohmann::json> row = rows.row();
      const std::string id = row[0].get<std::string>();
      mine.bind(1, id);
      if (mine.step()) {
        theirs.bind(1, id);
        theirs.step();
        const std::vector<nlohmann::json> a = mine.row(), b = theirs.row();
        mine.reset();
        theirs.reset();
        const bool a_ok = a[0] == "ok", b_ok = b[0] == "ok";
        if (a_ok && b_ok && a != b) {
          throw Error("point " + id + " has different results in " + path_ + " and " + other.path_);
        }
        if (a_ok || !b_ok) continue;  // keep ours: equal, or ok over failed
      } else {
        mine.reset();
      }
      for (size_t i = 0; i < row.size(); ++i) insert.bind(static_cast<int>(i) + 1, row[i]);
      insert.run_reset();
      ++changed;
    }
    Statement accuracy(other.db_, other.path_, "SELECT format, source, qsnr_db, detail_json FROM accuracy");
    Statement existing(db_, path_, "SELECT qsnr_db, detail_json FROM accuracy WHERE format = ? AND source = ?");
    Statement add(db_, path_, "INSERT INTO accuracy VALUES (?, ?, ?, ?)");
    while (accuracy.step()) {
      const std::vector<nlohmann::json> row = accuracy.row();
      existing.bind(1, row[0]);
      existing.bind(2, row[1]);
      if (existing.step()) {
        const std::vector<nlohmann::json> have = existing.row();
        existing.reset();
        if (have[0] != row[2] || have[1] != row[3]) {
          throw Error("accuracy of " + row[0].get<std::string>() + " differs in " + path_ + " and " + other.path_);
        }
        continue;
      }
      existing.reset();
      for (int i = 0; i < 4; ++i) add.bind(i + 1, row[static_cast<size_t>(i)]);
      add.run_reset();
    }
  } catch (...) {
    exec(db_, path_, "ROLLBACK");
    throw;
  }
  exec(db_, path_, "COMMIT");
  return changed;
}

}  // namespace nibble

// The read side of sweeps through the built `nibble`: merge, export, pareto, and the HTML
// report loaded in headless Chromium.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "nibble/sim/sweep_report.h"
#include "sweep_helpers.h"

namespace nibble {
namespace {

struct CommandRun {
  int code;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandRun shell(const std::string& command) {
  const std::string out = temp_path("stdout"), err = temp_path("stderr");
  const int status = std::system((command + " >" + out + " 2>" + err).c_str());
  return {WEXITSTATUS(status), slurp(out), slurp(err)};
}

CommandRun nibble(const std::string& args) { return shell(std::string(NIBBLE_CLI) + " " + args); }

std::string swept(const std::string& name, const std::string& body = kSmallSpec, SweepOptions options = {}) {
  const std::string dir = temp_path(name);
  std::filesystem::remove_all(dir);
  run(write_spec(name + ".yaml", body), dir, options);
  return dir;
}

TEST(SweepCli, AFullDiskIsAnErrorAndTheDatabaseSurvivesIt) {
  // A file-size limit stands in for a full disk (writes past it fail with EFBIG; root would
  // ignore a read-only directory). The sweep must stop with one line, leave a database that
  // reads, and finish on --resume.
  const std::string dir = temp_path("full_disk");
  std::filesystem::remove_all(dir);
  const std::string spec = std::string(NIBBLE_SOURCE_DIR) + "/workloads/sweeps/demo.yaml";
  const CommandRun full = shell("bash -c \"trap '' XFSZ; ulimit -f 64; " + std::string(NIBBLE_CLI) + " sweep " +
                                spec + " --out " + dir + "\"");
  EXPECT_EQ(full.code, 2) << full.err;
  EXPECT_EQ(std::count(full.err.begin(), full.err.end(), '\n'), 1) << full.err;
  EXPECT_NE(full.err.find("nibble: error: "), std::string::npos) << full.err;
  EXPECT_LT(result_rows(dir).size(), 72u);  // the database opens and reads
  const CommandRun resumed = nibble("sweep " + spec + " --out " + dir + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(result_rows(dir).size(), 72u);
}

TEST(SweepCli, AReadOnlyDirectoryIsAnErrorAndTheDatabaseSurvivesIt) {
  // A partial sweep (cut by a file-size limit), then its directory and database made read-only.
  // Root ignores permissions, so as root the resumed sweep runs as the unprivileged `nobody`,
  // keeping only the right to read (the source tree may sit in a directory private to root).
  const std::string dir = temp_path("read_only");
  std::filesystem::remove_all(dir);
  const std::string spec = std::string(NIBBLE_SOURCE_DIR) + "/workloads/sweeps/demo.yaml";
  const std::string sweep = std::string(NIBBLE_CLI) + " sweep " + spec + " --out " + dir;
  ASSERT_EQ(shell("bash -c \"trap '' XFSZ; ulimit -f 64; " + sweep + "\"").code, 2);
  const size_t done = result_rows(dir).size();
  ASSERT_LT(done, 72u);
  const std::string database = dir + "/results.sqlite";
  const std::string before = slurp(database);
  namespace fs = std::filesystem;
  const auto read_only = fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
  fs::permissions(database, read_only);
  fs::permissions(dir, read_only | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec);
  const std::string unprivileged = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups "
                                                      "--inh-caps=+dac_read_search --ambient-caps=+dac_read_search "
                                                    : "";
  const CommandRun refused = shell(unprivileged + sweep + " --resume");
  EXPECT_EQ(refused.code, 2) << refused.out << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_EQ(refused.err.rfind("nibble: error: ", 0), 0u) << refused.err;
  EXPECT_NE(refused.err.find(dir), std::string::npos) << refused.err;
  EXPECT_EQ(slurp(database), before);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(database, read_only | fs::perms::owner_write);
  EXPECT_EQ(result_rows(dir).size(), done);
  const CommandRun resumed = nibble("sweep " + spec + " --out " + dir + " --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(result_rows(dir).size(), 72u);
}

TEST(SweepCli, MergeOfShardsEqualsTheWholeRun) {
  const std::string whole = swept("cli_whole");
  std::string dirs;
  for (int i = 0; i < 3; ++i) {
    SweepOptions options;
    options.shard = i;
    options.shards = 3;
    dirs += " " + swept("cli_shard" + std::to_string(i), kSmallSpec, options);
  }
  const std::string out = temp_path("cli_merged");
  std::filesystem::remove_all(out);
  CommandRun r = nibble("merge " + out + dirs);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("72 rows added, 72 points in all"), std::string::npos) << r.out;
  r = nibble("merge " + out + dirs);  // idempotent
  EXPECT_NE(r.out.find("0 rows added, 72 points in all"), std::string::npos) << r.out;
  EXPECT_EQ(result_rows(out), result_rows(whole));
}

TEST(SweepCli, ExportWritesOneRowPerPoint) {
  const std::string dir = swept("cli_export");
  const std::string csv = temp_path("points.csv"), json = temp_path("points.json");
  ASSERT_EQ(nibble("export " + dir + " --csv " + csv).code, 0);
  ASSERT_EQ(nibble("export " + dir + " --json " + json).code, 0);
  std::istringstream lines(slurp(csv));
  std::string header, line;
  std::getline(lines, header);
  EXPECT_EQ(header.rfind("schema_version,id,point_index,status,error,array.rows,array.cols,buffers.w_kib,workload.phase,"
                         "workload.batch,format_w,format_a,format_kv,latency_ms", 0), 0u) << header;
  int rows = 0;
  while (std::getline(lines, line)) ++rows;
  EXPECT_EQ(rows, kSmallSpecPoints);
  const nlohmann::json j = nlohmann::json::parse(slurp(json));
  ASSERT_EQ(j.at("points").size(), size_t{kSmallSpecPoints});
  EXPECT_EQ(j.at("points")[0].at("point").at("hardware").at("array").at("rows"), 16);
  EXPECT_TRUE(j.at("points")[0].at("result").contains("roofline"));
}

TEST(SweepCli, ParetoFrontOfAHandWorkedTable) {
  // (cost, quality): minimize the first, maximize the second.
  ResultTable t{{"status", "cost", "quality"}, {}};
  for (const auto& [cost, quality] : std::vector<std::pair<double, double>>{{1, 1}, {2, 3}, {3, 2}, {4, 5}, {2, 3}, {5, 5}}) {
    t.rows.push_back({"ok", cost, quality});
  }
  t.rows.push_back({"failed", nullptr, nullptr});
  t.rows.push_back({"ok", 0.5, 9});  // dominates everything but itself
  EXPECT_EQ(pareto_front(t, {"cost"}, {"quality"}), (std::vector<size_t>{7}));
  t.rows.pop_back();
  // (3,2) loses to (2,3); (5,5) to (4,5); the two (2,3) tie and both stay.
  EXPECT_EQ(pareto_front(t, {"cost"}, {"quality"}), (std::vector<size_t>{0, 1, 3, 4}));
}

TEST(SweepCli, ParetoPrintsTheFront) {
  const std::string dir = swept("cli_pareto");
  const CommandRun r = nibble("pareto " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto store = ResultsStore::open_for_reading(dir);
  const size_t front = pareto_front(store->results(false), {"energy_per_token_uj", "area_mm2", "latency_ms"}, {}).size();
  EXPECT_GT(front, 1u);
  EXPECT_NE(r.out.find("Pareto front of small: " + std::to_string(front) + " of 72 points"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), static_cast<long>(front) + 2);
}

TEST(SweepCli, BadArgumentsAreOneLineErrors) {
  for (const std::string& args : {std::string("export ") + temp_path("nowhere") + " --csv x.csv",
                                  std::string("export ") + temp_path("nowhere"), std::string("report"),
                                  std::string("pareto ") + temp_path("nowhere"), std::string("merge ") + temp_path("o")}) {
    const CommandRun r = nibble(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.err.rfind("nibble: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// Loads the page in headless Chromium; returns the #report-status text, fails on console output.
std::string render(const std::string& html, const std::string& screenshot) {
  const std::string flags = "timeout 120 chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 ";
  const CommandRun dom = shell(flags + "--dump-dom file://" + html);
  EXPECT_EQ(dom.code, 0) << dom.err;
  EXPECT_EQ(dom.err.find("CONSOLE"), std::string::npos) << dom.err;  // any console message is a bug
  const CommandRun shot = shell(flags + "--window-size=1400,2600 --screenshot=" + screenshot + " file://" + html);
  EXPECT_EQ(shot.code, 0) << shot.err;
  EXPECT_GT(std::filesystem::file_size(screenshot), 20000u);  // a blank page is a few KB
  const size_t at = dom.out.find("id=\"report-status\"");
  if (at == std::string::npos) return "(no status element)";
  const size_t open = dom.out.find('>', at), close = dom.out.find('<', open);
  return dom.out.substr(open + 1, close - open - 1);
}

TEST(SweepReport, RendersInChromiumWithEveryChartDrawn) {
  const std::string dir = swept("report");
  const std::string html = temp_path("report.html");
  const CommandRun r = nibble("report " + dir + " --out " + html);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string page = slurp(html);
  EXPECT_EQ(page.find("<script src"), std::string::npos);  // self-contained: nothing to fetch
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_NE(page.find("Chart.js v3"), std::string::npos);
  // 3 objectives: 3 Pareto plots, the energy bars, the roofline.
  EXPECT_EQ(render(html, temp_path("report.png")), "ok: 5 charts");
}

TEST(SweepReport, AChartWithoutPointsFailsThePage) {
  // Every point fails (batch 13): the plots have nothing to draw, and the page must say so.
  std::string body = kSmallSpec;
  body.replace(body.find("workload.batch: [1, 13]"), 23, "workload.batch: [13]");
  const std::string dir = swept("report_empty", body);
  const std::string html = temp_path("report_empty.html");
  ASSERT_EQ(nibble("report " + dir + " --out " + html).code, 0);
  const std::string flags = "timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom file://";
  const CommandRun dom = shell(flags + html);
  EXPECT_NE(dom.out.find("has no points"), std::string::npos);
  EXPECT_NE(dom.out.find("data-status=\"error\""), std::string::npos);
}

}  // namespace
}  // namespace nibble

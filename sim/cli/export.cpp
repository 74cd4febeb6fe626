#include <fstream>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/sim/sweep_store.h"

namespace nibble::cli {
namespace {

// Version of the exported columns' meaning; bump it when they change.
constexpr int kExportSchemaVersion = 1;

std::string csv_field(const nlohmann::json& v) {
  if (v.is_null()) return "";
  const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

int run_export(const Args& args) {
  namespace po = boost::program_options;
  std::string dir, csv_path, json_path;
  po::options_description options("export options");
  options.add_options()
      ("dir", po::value<std::string>(&dir)->required(), "the sweep's output directory")
      ("csv", po::value<std::string>(&csv_path), "write one CSV row per point to this file")
      ("json", po::value<std::string>(&json_path), "write the points as JSON to this file");
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map vm;
  if (!parse_options("export", args, options, vm, positional)) return 0;
  if (csv_path.empty() == json_path.empty()) throw Error("give one of --csv FILE and --json FILE");
  const auto store = ResultsStore::open_for_reading(dir);
  const ResultTable table = store->results(/*with_json=*/!json_path.empty());
  const std::string& path = csv_path.empty() ? json_path : csv_path;
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot open file for writing");
  if (!csv_path.empty()) {
    // The resolved point stays (it is the design); the full result is JSON-export only.
    out << "schema_version";
    for (const auto& c : table.columns) out << "," << csv_field(c);
    out << "\n";
    for (const auto& row : table.rows) {
      out << kExportSchemaVersion;
      for (const auto& cell : row) out << "," << csv_field(cell);
      out << "\n";
    }
  } else {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& row : table.rows) {
      nlohmann::json point = nlohmann::json::object();
      for (size_t i = 0; i < row.size(); ++i) {
        const std::string& c = table.columns[i];
        const bool nested = (c == "point_json" || c == "result_json") && row[i].is_string();
        point[c == "point_json" ? "point" : c == "result_json" ? "result" : c] =
            nested ? nlohmann::json::parse(row[i].get<std::string>()) : row[i];
      }
      points.push_back(std::move(point));
    }
    out << nlohmann::json{{"schema_version", kExportSchemaVersion}, {"layout", store->layout().to_json()},
                          {"points", points}}.dump(1) << "\n";
  }
  out.close();
  if (!out) throw Error(path + ": write failed");
  std::printf("%zu points -> %s\n", table.rows.size(), path.c_str());
  return 0;
}

}  // namespace nibble::cli

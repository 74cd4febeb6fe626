#include <cstdio>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/sim/sweep_report.h"

namespace nibble::cli {

int run_pareto(const Args& args) {
  namespace po = boost::program_options;
  std::string dir;
  po::options_description options("pareto options");
  options.add_options()("dir", po::value<std::string>(&dir)->required(), "the sweep's output directory");
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map vm;
  if (!parse_options("pareto", args, options, vm, positional)) return 0;
  const auto store = ResultsStore::open_for_reading(dir);
  const StoreLayout& layout = store->layout();
  const std::vector<std::string> minimize = layout.identity.at("minimize"), maximize = layout.identity.at("maximize");
  if (minimize.empty() && maximize.empty()) throw Error(dir + ": the sweep's spec names no objectives");
  const ResultTable table = store->results(/*with_json=*/false);
  const std::vector<size_t> front = pareto_front(table, minimize, maximize);

  std::vector<std::string> columns = {"point_index"};
  for (const auto& c : layout.axis_columns) columns.push_back(c);
  for (const char* role : kFormatRoles) columns.push_back(std::string("format_") + role);
  for (const auto& c : minimize) columns.push_back(c);
  for (const auto& c : maximize) columns.push_back(c);
  std::vector<size_t> widths;
  for (const auto& c : columns) widths.push_back(c.size());
  std::vector<std::vector<std::string>> cells;
  for (const size_t r : front) {
    std::vector<std::string> line;
    for (size_t i = 0; i < columns.size(); ++i) {
      const nlohmann::json& v = table.rows[r][static_cast<size_t>(table.column(columns[i]))];
      char number[32];
      if (v.is_number_float()) std::snprintf(number, sizeof number, "%.6g", v.get<double>());
      line.push_back(v.is_string() ? v.get<std::string>() : v.is_number_float() ? number : v.dump());
      widths[i] = std::max(widths[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  std::printf("Pareto front of %s: %zu of %zu points (minimize:", layout.identity.at("name").get<std::string>().c_str(),
              front.size(), table.rows.size());
  for (const auto& m : minimize) std::printf(" %s", m.c_str());
  std::printf("; maximize:");
  for (const auto& m : maximize) std::printf(" %s", m.c_str());
  std::printf(")\n");
  for (size_t i = 0; i < columns.size(); ++i) std::printf("%-*s ", static_cast<int>(widths[i]), columns[i].c_str());
  std::printf("\n");
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) std::printf("%-*s ", static_cast<int>(widths[i]), line[i].c_str());
    std::printf("\n");
  }
  return 0;
}

}  // namespace nibble::cli

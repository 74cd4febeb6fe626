#include <cstdio>
#include <fstream>
#include <sstream>

#include "command.h"
#include "nibble/models/error.h"
#include "nibble/sim/sweep_report.h"

namespace nibble::cli {

int run_report(const Args& args) {
  namespace po = boost::program_options;
  std::string dir, out_path;
  po::options_description options("report options");
  options.add_options()
      ("dir", po::value<std::string>(&dir)->required(), "the sweep's output directory")
      ("out", po::value<std::string>(&out_path)->required(), "the HTML file to write");
  po::positional_options_description positional;
  positional.add("dir", 1);
  po::variables_map vm;
  if (!parse_options("report", args, options, vm, positional)) return 0;
  const auto store = ResultsStore::open_for_reading(dir);
  std::ifstream library(kChartJsPath);
  if (!library) throw Error(std::string(kChartJsPath) + ": cannot read Chart.js (install libjs-chart.js: scripts/setup.sh)");
  std::stringstream chart_js;
  chart_js << library.rdbuf();
  const std::string page = report_html(*store, chart_js.str());
  std::ofstream out(out_path);
  if (!out) throw Error(out_path + ": cannot open file for writing");
  out << page;
  out.close();
  if (!out) throw Error(out_path + ": write failed");
  std::printf("report: %s\n", out_path.c_str());
  return 0;
}

}  // namespace nibble::cli

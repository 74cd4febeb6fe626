#pragma once
// Reading a sweep's results: Pareto fronts and the HTML report (`nibble pareto`, `nibble report`).
#include <string>
#include <vector>

#include "nibble/sim/sweep_store.h"

namespace nibble {

// The rows (ok, every objective a number) that no other such row dominates: another row
// dominates when it is at least as good in every objective and better in one. In table order.
std::vector<size_t> pareto_front(const ResultTable& table, const std::vector<std::string>& minimize,
                                 const std::vector<std::string>& maximize);

// Debian's libjs-chart.js (scripts/setup.sh installs it): inlined into every report.
inline constexpr const char* kChartJsPath = "/usr/share/javascript/chart.js/chart.min.js";

// One self-contained HTML page that opens offline: the results embedded as JSON and the plotting
// library's source inlined. Pareto scatter plots for each pair of objectives (the pair's front
// highlighted, tooltips naming the axis values), the energy breakdown of the Pareto points
// stacked, a roofline of their operators when the results carry per-operator figures, and a
// sortable table. When the page has rendered, the element #report-status says "ok" (or the
// first script error, or which chart came out empty): the browser test reads it.
std::string report_html(const ResultsStore& store, const std::string& chart_js);

}  // namespace nibble

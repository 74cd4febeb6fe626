#include "nibble/sim/sweep_report.h"

#include <cmath>

#include "nibble/models/error.h"

namespace nibble {
namespace {

// Points the report draws in full (energy bars, rooflines): the Pareto front, at most this many.
constexpr size_t kDetailedPoints = 60;
constexpr size_t kRooflinePoints = 8;

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    better = better || a[i] < b[i];
  }
  return better;
}


// JSON inside <script>: "</" would end the element early.
std::string script_safe(const std::string& text) {
  std::string safe;
  safe.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    safe += text[i];
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') safe += '\\';
  }
  return safe;
}

const char* const kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nibble sweep: @TITLE@</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 1em; }
.chart { position: relative; height: 340px; border: 1px solid #ddd; padding: 6px; }
.wide { height: 380px; }
table { border-collapse: collapse; font-size: 0.8em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; cursor: pointer; position: sticky; top: 0; }
tr.front td { background: #fff3e0; }
#report-status { color: #888; font-size: 0.8em; }
</style>
<script>@CHARTJS@</script>
</head><body>
<h1>nibble sweep: <span id="name"></span></h1>
<p id="summary"></p>
<p id="report-status" data-status="loading">loading</p>
<h2>Pareto fronts</h2><div class="grid" id="pareto"></div>
<h2>Energy per token of the Pareto points</h2><div class="chart wide"><canvas id="energy"></canvas></div>
<div id="roofline-section"><h2>Roofline of the Pareto points' operators</h2><div class="chart wide"><canvas id="roofline"></canvas></div></div>
<h2>All points</h2><p id="table-note"></p><div style="overflow:auto; max-height: 600px"><table id="table"></table></div>
<script id="data" type="application/json">@DATA@</script>
<script>
"use strict";
const status = document.getElementById("report-status");
const problems = [];
function report(problem) {
  problems.push(problem);
  status.textContent = "error: " + problems[0];
  status.dataset.status = "error";
}
window.addEventListener("error", e => report(e.message));
const consoleError = console.error;
console.error = (...args) => { report(args.join(" ")); consoleError(...args); };

const data = JSON.parse(document.getElementById("data").textContent);
const col = name => data.columns.indexOf(name);
const charts = [];
const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const okRows = data.rows.filter(r => r[col("status")] === "ok");
const describe = r => data.axes.map(a => a + "=" + r[col(a)]).join(", ");
const fmt = v => typeof v === "number" ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(3) : +v.toFixed(4)) : v;

function chart(canvas, config) {
  config.options = Object.assign({animation: false, responsive: true, maintainAspectRatio: false}, config.options);
  charts.push({name: canvas.id || canvas.dataset.name, chart: new Chart(canvas, config)});
}
function scale(title, values) {
  const positive = values.length > 0 && values.every(v => v > 0);
  const spread = positive ? Math.max(...values) / Math.min(...values) : 1;
  return {type: positive && spread > 100 ? "logarithmic" : "linear", title: {display: true, text: title}};
}

document.getElementById("name").textContent = data.name;
document.getElementById("summary").textContent =
  data.rows.length + " points, " + okRows.length + " ok, " + (data.rows.length - okRows.length) + " failed; " +
  "objectives: " + data.objectives.map(o => o.sense + " " + o.name).join(", ") + "; nibble " + data.version;

// Pareto scatter plots: one per pair of objectives; the pair's own front in colour.
const pairs = [];
for (let i = 0; i < data.objectives.length; ++i)
  for (let j = i + 1; j < data.objectives.length; ++j) pairs.push([data.objectives[i], data.objectives[j]]);
if (pairs.length === 0) document.getElementById("pareto").textContent = "(the spec names fewer than two objectives)";
for (const [ox, oy] of pairs) {
  const pts = okRows.filter(r => typeof r[col(ox.name)] === "number" && typeof r[col(oy.name)] === "number")
                    .map(r => ({x: r[col(ox.name)], y: r[col(oy.name)], row: r}));
  const sx = ox.sense === "minimize" ? 1 : -1, sy = oy.sense === "minimize" ? 1 : -1;
  const sorted = pts.slice().sort((a, b) => sx * (a.x - b.x) || sy * (a.y - b.y));
  const front = [];
  for (const p of sorted) if (front.length === 0 || sy * p.y < sy * front[front.length - 1].y) front.push(p);
  const box = document.createElement("div");
  box.className = "chart";
  const canvas = document.createElement("canvas");
  canvas.dataset.name = ox.name + " vs " + oy.name;
  box.appendChild(canvas);
  document.getElementById("pareto").appendChild(box);
  chart(canvas, {
    type: "scatter",
    data: {datasets: [
      {label: "Pareto front (" + front.length + ")", data: front, backgroundColor: "#d62728", borderColor: "#d62728",
       showLine: true, pointRadius: 4},
      {label: "points (" + pts.length + ")", data: pts, backgroundColor: "rgba(31,119,180,0.35)", pointRadius: 2.5}]},
    options: {
      scales: {x: scale(ox.sense + " " + ox.name, pts.map(p => p.x)), y: scale(oy.sense + " " + oy.name, pts.map(p => p.y))},
      plugins: {tooltip: {callbacks: {label: c => [describe(c.raw.row), ox.name + "=" + fmt(c.raw.x) + ", " + oy.name + "=" + fmt(c.raw.y)]}}}}
  });
}

// The points drawn in detail: the sweep's Pareto front over all objectives (else the first ok points).
const detailed = (data.front.length > 0 ? data.front.map(i => data.rows[i]) : okRows).slice(0, data.detailed_limit);
const labels = detailed.map((r, i) => "#" + r[col("point_index")]);
chart(document.getElementById("energy"), {
  type: "bar",
  data: {labels, datasets: data.energy_parts.map((part, k) => ({
    label: part, data: detailed.map(r => r[col(part)]), backgroundColor: palette[k % palette.length]}))},
  options: {scales: {x: {stacked: true, title: {display: true, text: "point"}},
                     y: {stacked: true, title: {display: true, text: "energy per token (uJ)"}}},
            plugins: {tooltip: {callbacks: {title: items => describe(detailed[items[0].dataIndex])}}}}
});

// Roofline: attainable = min(peak, bandwidth x intensity), operators as points.
const roofs = data.rooflines;
if (roofs.length === 0) {
  document.getElementById("roofline-section").style.display = "none";
} else {
  const intensities = roofs.flatMap(r => r.operators.map(o => o.intensity)).filter(v => v > 0);
  const lo = Math.min(...intensities) / 4, hi = Math.max(...intensities) * 4;
  const datasets = [];
  roofs.forEach((r, k) => {
    const knee = r.peak_gops / r.bandwidth_gbs;
    const color = palette[k % palette.length];
    const roof = [lo, Math.min(Math.max(knee, lo), hi), hi].map(x => ({x, y: Math.min(r.peak_gops, r.bandwidth_gbs * x)}));
    datasets.push({label: r.label + " roof", data: roof, showLine: true, borderColor: color, pointRadius: 0, borderWidth: 1});
    datasets.push({label: r.label, data: r.operators.map(o => ({x: o.intensity, y: o.gops, name: o.name})),
                   backgroundColor: color, pointRadius: 4});
  });
  chart(document.getElementById("roofline"), {
    type: "scatter", data: {datasets},
    options: {scales: {x: {type: "logarithmic", title: {display: true, text: "operational intensity (ops/byte)"}},
                       y: {type: "logarithmic", title: {display: true, text: "performance (GOP/s)"}}},
              plugins: {tooltip: {callbacks: {label: c => (c.raw.name || "roof") + ": " + fmt(c.raw.x) + " ops/B, " + fmt(c.raw.y) + " GOP/s"}}}}
  });
}

// The table: every column, sortable by a click on its header; the first rows of the order shown.
const shown = data.columns.filter(c => c !== "nibble_version" && c !== "git_commit");
const frontSet = new Set(data.front.map(i => data.rows[i][col("id")]));
let order = data.rows.slice(), sortBy = null, ascending = true;
function renderTable() {
  const table = document.getElementById("table");
  const head = "<tr>" + shown.map(c => "<th data-col='" + c + "'>" + c + (c === sortBy ? (ascending ? " ▲" : " ▼") : "") + "</th>").join("") + "</tr>";
  const body = order.slice(0, data.table_limit).map(r =>
    "<tr" + (frontSet.has(r[col("id")]) ? " class='front'" : "") + ">" +
    shown.map(c => { const v = r[col(c)]; return "<td>" + (v === null ? "" : String(c === "id" ? v.slice(0, 12) : fmt(v)).replace(/</g, "&lt;")) + "</td>"; }).join("") + "</tr>").join("");
  table.innerHTML = head + body;
  for (const th of table.querySelectorAll("th")) th.onclick = () => {
    const c = th.dataset.col;
    ascending = sortBy === c ? !ascending : true;
    sortBy = c;
    const k = col(c);
    order.sort((a, b) => {
      const x = a[k], y = b[k];
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (ascending ? 1 : -1);
    });
    renderTable();
  };
  document.getElementById("table-note").textContent = order.length > data.table_limit
    ? "showing " + data.table_limit + " of " + order.length + " rows (click a header to sort; nibble export writes them all); Pareto points highlighted"
    : "click a header to sort; Pareto points highlighted";
}
renderTable();

for (const c of charts) {
  const n = c.chart.data.datasets.reduce((s, d) => s + d.data.length, 0);
  if (n === 0) report("chart '" + c.name + "' has no points");
}
if (problems.length === 0) { status.textContent = "ok: " + charts.length + " charts"; status.dataset.status = "ok"; }
</script></body></html>
)HTML";

void replace(std::string& text, const std::string& marker, const std::string& value) {
  const size_t at = text.find(marker);
  if (at == std::string::npos) throw Error("report template lacks " + marker);
  text.replace(at, marker.size(), value);
}

}  // namespace

std::vector<size_t> pareto_front(const ResultTable& table, const std::vector<std::string>& minimize,
                                 const std::vector<std::string>& maximize) {
  std::vector<int> columns;
  std::vector<double> sign;
  for (const auto& name : minimize) columns.push_back(table.column(name)), sign.push_back(1);
  for (const auto& name : maximize) columns.push_back(table.column(name)), sign.push_back(-1);
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] < 0) throw Error("the results have no column for objective " + (i < minimize.size() ? minimize[i] : maximize[i - minimize.size()]));
  }
  const int status = table.column("status");
  std::vector<size_t> candidates;
  std::vector<std::vector<double>> costs;  // every objective as a cost to minimize
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (table.rows[r][static_cast<size_t>(status)] != "ok") continue;
    std::vector<double> cost;
    for (size_t i = 0; i < columns.size(); ++i) {
      const nlohmann::json& v = table.rows[r][static_cast<size_t>(columns[i])];
      if (!v.is_number() || std::isnan(v.get<double>())) break;
      cost.push_back(sign[i] * v.get<double>());
    }
    if (cost.size() != columns.size()) continue;
    candidates.push_back(r);
    costs.push_back(std::move(cost));
  }
  std::vector<size_t> front;
  for (size_t a = 0; a < candidates.size(); ++a) {
    bool dominated = false;
    for (size_t b = 0; b < candidates.size() && !dominated; ++b) dominated = b != a && dominates(costs[b], costs[a]);
    if (!dominated) front.push_back(candidates[a]);
  }
  return front;
}

std::string report_html(const ResultsStore& store, const std::string& chart_js) {
  const StoreLayout& layout = store.layout();
  const nlohmann::json& identity = layout.identity;
  const std::vector<std::string> minimize = identity.at("minimize"), maximize = identity.at("maximize");
  ResultTable table = store.results(/*with_json=*/true);
  const int result_column = table.column("result_json");
  const std::vector<size_t> front = pareto_front(table, minimize, maximize);

  nlohmann::json rooflines = nlohmann::json::array();
  for (size_t i = 0; i < front.size() && rooflines.size() < kRooflinePoints; ++i) {
    const nlohmann::json& text = table.rows[front[i]][static_cast<size_t>(result_column)];
    const nlohmann::json result = text.is_string() ? nlohmann::json::parse(text.get<std::string>()) : nlohmann::json();
    if (!result.contains("roofline")) continue;
    nlohmann::json roofline = result.at("roofline");
    roofline["label"] = "#" + table.rows[front[i]][static_cast<size_t>(table.column("point_index"))].dump();
    rooflines.push_back(std::move(roofline));
  }
  // The JSON columns stay out of the page: they would dwarf everything else.
  const size_t kept = static_cast<size_t>(table.column("point_json"));
  table.columns.resize(kept);
  for (auto& row : table.rows) row.resize(kept);

  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& m : minimize) objectives.push_back({{"name", m}, {"sense", "minimize"}});
  for (const auto& m : maximize) objectives.push_back({{"name", m}, {"sense", "maximize"}});
  nlohmann::json energy_parts = nlohmann::json::array();
  for (const MetricInfo& m : layout.metrics) {
    if (m.energy_part) energy_parts.push_back(m.name);
  }
  nlohmann::json axes = layout.axis_columns;
  for (const char* role : kFormatRoles) axes.push_back(std::string("format_") + role);
  const nlohmann::json data = {{"name", identity.at("name")},  {"version", nibble_version()},
                               {"columns", table.columns},     {"rows", table.rows},
                               {"axes", axes},                 {"objectives", objectives},
                               {"front", front},               {"energy_parts", energy_parts},
                               {"rooflines", rooflines},       {"detailed_limit", kDetailedPoints},
                               {"table_limit", 1000}};
  std::string page = kPage;
  std::string title = identity.at("name").get<std::string>();
  for (size_t at = title.find_first_of("<&"); at != std::string::npos; at = title.find_first_of("<&", at + 1)) title[at] = '_';
  replace(page, "@TITLE@", title);
  replace(page, "@CHARTJS@", script_safe(chart_js));
  replace(page, "@DATA@", script_safe(data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return page;
}

}  // namespace nibble

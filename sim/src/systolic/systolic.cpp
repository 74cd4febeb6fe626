#include "nibble/sim/systolic.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <memory>
#include <tuple>

#include "../text.h"
#include "buffers.h"
#include "dataflow.h"
#include "nibble/models/checked.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

// Limits of the systolic mode (far above SCALE-Sim's own practical range), chosen so that
// every product of counts stays inside int64 and a run stays within minutes.
constexpr std::int64_t kMaxArraySide = 1 << 16;
constexpr std::int64_t kMaxSramKiB = std::int64_t{1} << 30;  // 1 TiB
constexpr std::int64_t kMaxWordsPerCycle = 1 << 20;
constexpr std::int64_t kMaxOperandElements = std::int64_t{1} << 28;
constexpr std::int64_t kMaxSteps = std::int64_t{1} << 32;

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// An INI file as Python's configparser reads it: keys are case-insensitive, `:` or `=`
// separates key and value, `#` and `;` start comment lines.
class IniFile {
 public:
  explicit IniFile(const std::string& path) : path_(path) {
    std::ifstream in(path);
    if (!in) throw Error(path + ": cannot open file");
    std::string section;
    std::map<std::string, int> section_lines;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      const std::string text = trim(line);
      if (text.empty() || text[0] == '#' || text[0] == ';') continue;
      if (text[0] == '[') {
        if (text.back() != ']') throw Error(where(number) + ": unterminated section header");
        section = lowercase(trim(text.substr(1, text.size() - 2)));
        // configparser (strict, its default) refuses repeats rather than keep one silently.
        const auto [first, inserted] = section_lines.emplace(section, number);
        if (!inserted) {
          throw Error(where(number) + ": duplicate section [" + section + "] (first at line " +
                      std::to_string(first->second) + ")");
        }
        continue;
      }
      const size_t separator = text.find_first_of(":=");
      if (separator == std::string::npos || section.empty()) {
        throw Error(where(number) + ": expected 'key : value' inside a [section]");
      }
      const std::string key = lowercase(trim(text.substr(0, separator)));
      const auto [first, inserted] =
          entries_.emplace(section + "." + key, Entry{trim(text.substr(separator + 1)), number});
      if (!inserted) {
        throw Error(where(number) + ": duplicate key '" + key + "' in [" + section +
                    "] (first at line " + std::to_string(first->second.line) + ")");
      }
    }
  }

  bool has(const std::string& section, const std::string& key) const {
    return entries_.count(section + "." + lowercase(key)) != 0;
  }
  std::string text(const std::string& section, const std::string& key) const {
    const auto it = entries_.find(section + "." + lowercase(key));
    if (it == entries_.end()) throw Error(path_ + ": missing '" + key + "' in [" + section + "]");
    return it->second.value;
  }
  // A positive integer no larger than `limit` (limits keep every count the model derives
  // from it, such as SRAM bytes and fold offsets, inside int64).
  std::int64_t positive(const std::string& section, const std::string& key, std::int64_t limit) const {
    const std::string full = text(section, key);
    // Bandwidth may list one value per interface; the first one is the DRAM's.
    const std::string value = trim(full.substr(0, full.find(',')));
    std::int64_t v = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (error == std::errc::result_out_of_range || (error == std::errc() && v > limit)) {
      throw Error(where(line_of(section, key)) + ": " + key + " '" + full + "' exceeds the limit " +
                  std::to_string(limit));
    }
    if (error != std::errc() || end != value.data() + value.size() || v <= 0) {
      throw Error(where(line_of(section, key)) + ": " + key + " '" + full +
                  "' is not a positive integer");
    }
    return v;
  }
  bool flag(const std::string& section, const std::string& key) const {
    if (!has(section, key)) return false;
    const std::string v = lowercase(text(section, key));
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    throw Error(where(entries_.at(section + "." + lowercase(key)).line) + ": " + key + " '" + v +
                "' is not a boolean");
  }
  std::string where(int line) const { return path_ + ":" + std::to_string(line); }
  int line_of(const std::string& section, const std::string& key) const {
    return entries_.at(section + "." + lowercase(key)).line;
  }

 private:
  struct Entry {
    std::string value;
    int line = 0;
  };
  std::string path_;
  std::map<std::string, Entry> entries_;
};

// Python's str(float): the shortest text that reads back to the same double, with ".0" on
// integral values.
std::string python_float(double v) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  std::string s(buffer, result.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

SystolicConfig load_scalesim_config(const std::string& path) {
  const IniFile ini(path);
  SystolicConfig c;
  c.run_name = ini.text("general", "run_name");
  const std::string mode = ini.text("run_presets", "InterfaceBandwidth");
  if (mode != "USER" && mode != "CALC") {
    throw Error(ini.where(ini.line_of("run_presets", "InterfaceBandwidth")) +
                ": InterfaceBandwidth '" + mode + "' must be USER or CALC");
  }
  c.user_bandwidth = mode == "USER";
  if (ini.flag("run_presets", "UseRamulatorTrace")) {
    throw Error(path + ": UseRamulatorTrace is not supported (nibble models a fixed-latency DRAM)");
  }
  if (ini.flag("sparsity", "SparsitySupport")) throw Error(path + ": SparsitySupport is not supported");
  if (ini.flag("layout", "IfmapCustomLayout") || ini.flag("layout", "FilterCustomLayout")) {
    throw Error(path + ": custom SRAM layouts are not supported");
  }
  const std::string arch = "architecture_presets";
  c.rows = static_cast<int>(ini.positive(arch, "ArrayHeight", kMaxArraySide));
  c.cols = static_cast<int>(ini.positive(arch, "ArrayWidth", kMaxArraySide));
  c.ifmap_sram_bytes = 1024 * ini.positive(arch, "IfmapSramSzkB", kMaxSramKiB);
  c.filter_sram_bytes = 1024 * ini.positive(arch, "FilterSramSzkB", kMaxSramKiB);
  c.ofmap_sram_bytes = 1024 * ini.positive(arch, "OfmapSramSzkB", kMaxSramKiB);
  c.dataflow = ini.text(arch, "Dataflow");
  if (!systolic::find_dataflow(c.dataflow)) {
    throw Error(ini.where(ini.line_of(arch, "Dataflow")) + ": Dataflow '" + c.dataflow +
                "' must be os, ws or is");
  }
  if (c.user_bandwidth) {
    c.ofmap_words_per_cycle = static_cast<int>(ini.positive(arch, "Bandwidth", kMaxWordsPerCycle));
    c.ifmap_words_per_cycle =
        static_cast<int>(ini.positive("layout", "IfmapSRAMBankBandwidth", kMaxWordsPerCycle));
    c.filter_words_per_cycle =
        static_cast<int>(ini.positive("layout", "FilterSRAMBankBandwidth", kMaxWordsPerCycle));
    // SCALE-Sim splits each read bandwidth evenly over the banks and insists that it divides.
    for (const char* prefix : {"Ifmap", "Filter"}) {
      const std::string banks = std::string(prefix) + "SRAMBankNum";
      const std::int64_t words =
          ini.positive("layout", std::string(prefix) + "SRAMBankBandwidth", kMaxWordsPerCycle);
      if (ini.has("layout", banks) && words % ini.positive("layout", banks, kMaxWordsPerCycle) != 0) {
        throw Error(ini.where(ini.line_of("layout", banks)) + ": " + banks +
                    " must divide the bank bandwidth " + std::to_string(words));
      }
    }
  } else {
    c.ofmap_words_per_cycle = c.cols;  // CALC: the ofmap interface takes one array row a cycle
  }
  return c;
}

SystolicReport simulate_systolic(const SystolicConfig& config, const Gemm& gemm) {
  const systolic::DataflowEntry* dataflow = systolic::find_dataflow(config.dataflow);
  if (!dataflow) throw Error("systolic: unknown dataflow '" + config.dataflow + "'");
  if (config.rows < 1 || config.rows > kMaxArraySide || config.cols < 1 || config.cols > kMaxArraySide) {
    throw Error("systolic: array " + std::to_string(config.rows) + " x " + std::to_string(config.cols) +
                " is outside 1.." + std::to_string(kMaxArraySide) + " per side");
  }
  // The read buffers keep a line number per operand element and the array is stepped cycle by
  // cycle, so both are bounded before anything is allocated or run.
  const std::string what = "systolic: GEMM '" + gemm.name + "'";
  for (const auto& [name, a, b] : {std::tuple{"M x K", gemm.m, gemm.k}, std::tuple{"K x N", gemm.k, gemm.n},
                                   std::tuple{"M x N", gemm.m, gemm.n}}) {
    if (a <= 0 || b <= 0) throw Error(what + ": dimensions must be positive");
    const std::int64_t elements = checked_mul(a, b, what + " " + name);
    if (elements > kMaxOperandElements) {
      throw Error(what + ": " + name + " = " + std::to_string(elements) +
                  " elements exceeds the systolic mode's limit of " +
                  std::to_string(kMaxOperandElements) + " per operand");
    }
  }
  const systolic::GemmShape shape{gemm.m, gemm.n, gemm.k};
  const systolic::ArrayShape array{config.rows, config.cols};
  const auto plan = dataflow->make(shape, array);
  const std::int64_t steps = checked_mul(plan->fold_count(), plan->fold(0).cycles, what + " folds x cycles");
  if (steps > kMaxSteps) {
    throw Error(what + ": " + std::to_string(steps) + " array cycles exceed the systolic mode's limit of " +
                std::to_string(kMaxSteps) + " (it steps every cycle)");
  }

  const auto read_buffer = [&](const systolic::PrefetchOrder& order, std::int64_t bytes,
                               int words_per_cycle) -> std::unique_ptr<systolic::ReadBuffer> {
    if (config.user_bandwidth) {
      return std::make_unique<systolic::PrefetchingReadBuffer>(order, bytes, words_per_cycle);
    }
    return std::make_unique<systolic::EstimatedReadBuffer>(order.elements, bytes);
  };
  const auto ifmap = read_buffer(plan->ifmap_prefetch(), config.ifmap_sram_bytes,
                                 config.ifmap_words_per_cycle);
  const auto filter = read_buffer(plan->filter_prefetch(), config.filter_sram_bytes,
                                  config.filter_words_per_cycle);
  systolic::DrainingWriteBuffer ofmap(config.ofmap_sram_bytes, config.ofmap_words_per_cycle);

  SystolicReport report;
  report.gemm = gemm;
  report.folds = plan->fold_count();
  const double pes = static_cast<double>(config.rows) * config.cols;
  double mapping_sum = 0, compute_sum = 0;
  std::int64_t row = 0, last_accepted = 0, stalls = 0;
  for (std::int64_t index = 0; index < report.folds; ++index) {
    const systolic::Fold fold = plan->fold(index);
    mapping_sum += static_cast<double>(fold.used_pes) / pes;
    compute_sum += static_cast<double>(fold.macs) / (pes * static_cast<double>(fold.reported_cycles));
    for (std::int64_t t = 0; t < fold.cycles; ++t, ++row) {
      const std::int64_t cycle = row + stalls;
      const std::int64_t ifmap_wait = ifmap->serve(cycle, fold.ifmap, t) - cycle - 1;
      const std::int64_t filter_wait = filter->serve(cycle, fold.filter, t) - cycle - 1;
      const auto [begin, end] = fold.ofmap.columns_at(t);
      last_accepted = ofmap.serve(cycle, end - begin);
      const std::int64_t ofmap_wait = last_accepted - cycle;
      report.cycles = std::max(report.cycles, last_accepted);
      const std::int64_t wait = std::max({ifmap_wait, filter_wait, ofmap_wait});
      if (wait <= 0) continue;
      stalls += wait;
      (wait == ifmap_wait ? report.ifmap_stall_cycles
                          : wait == filter_wait ? report.filter_stall_cycles
                                                : report.ofmap_stall_cycles) += wait;
    }
  }
  ofmap.finish(last_accepted);
  report.stall_cycles = stalls;
  report.cycles_with_prefetch =
      ofmap.dram_stop_cycle() - std::min(ifmap->dram_start_cycle(), filter->dram_start_cycle());
  report.ofmap_dram_writes = ofmap.dram_writes();
  const double macs = static_cast<double>(gemm.m) * static_cast<double>(gemm.n) * static_cast<double>(gemm.k);
  report.overall_util_pct = macs * 100 / (static_cast<double>(report.cycles) * pes);
  report.mapping_efficiency_pct = mapping_sum / static_cast<double>(report.folds) * 100;
  report.compute_util_pct = compute_sum / static_cast<double>(report.folds) * 100;
  return report;
}

std::vector<std::string> systolic_dataflows() {
  std::vector<std::string> names;
  for (const systolic::DataflowEntry& entry : systolic::dataflows()) names.emplace_back(entry.name);
  return names;
}

void write_compute_report(const std::string& path, const std::vector<SystolicReport>& reports) {
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot open file for writing");
  out << "LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util %, "
         "Mapping Efficiency %, Compute Util %,\n";
  for (size_t i = 0; i < reports.size(); ++i) {
    const SystolicReport& r = reports[i];
    out << i << ", " << r.cycles_with_prefetch << ", " << r.cycles << ", " << r.stall_cycles << ", "
        << python_float(r.overall_util_pct) << ", " << python_float(r.mapping_efficiency_pct) << ", "
        << python_float(r.compute_util_pct) << ",\n";
  }
  out.close();
  if (!out) throw Error(path + ": write failed");
}

}  // namespace nibble

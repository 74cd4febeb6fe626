#include "nibble/rtl/activity.h"

#include <sstream>

#include "dpu_cosim.h"
#include "toggle_counter.h"
#include "nibble/models/error.h"

// The gate-level configurations, listed by gate.cmake.
#include "gate_headers.inc"

namespace nibble {
namespace {

using rtl::CellRange;

struct GateUnit;
using ActivityRun = ActivityReport (*)(const GateUnit&, const Matrix*, const Matrix*, std::int64_t, std::uint64_t);
using CosimRun = CosimReport (*)(const GateUnit&, std::int64_t, std::uint64_t);

struct GateUnit {
  const char* unit;
  const char* a_format;
  const char* b_format;
  int latency;
  ActivityRun activity;
  CosimRun cosim;
  std::vector<CellRange> cells;
  std::string name() const { return std::string(unit) + ":a=" + a_format + ":b=" + b_format; }
};

// Operand runs of one side: random codes, or a tensor's values cut into kSequence blocks.
class OperandStream {
 public:
  OperandStream(const BlockFormat& format, const Matrix* values) : format_(format), values_(values) {
    if (values_ && values_->data.empty()) throw Error("activity operands: an empty tensor");
  }
  QuantizedTensor next(std::mt19937_64& rng) {
    if (!values_) return rtl::random_operand(format_, rng, 2);
    const std::int64_t length = static_cast<std::int64_t>(rtl::kSequence) * format_.info().block;
    Matrix x(1, length);
    const auto size = static_cast<std::int64_t>(values_->data.size());
    for (std::int64_t i = 0; i < length; ++i) {
      x.data[static_cast<size_t>(i)] = values_->data[static_cast<size_t>((position_ + i) % size)];
    }
    position_ = (position_ + length) % size;
    return format_.quantize(x);
  }

 private:
  const BlockFormat& format_;
  const Matrix* values_;
  std::int64_t position_ = 0;
};

// The addresses of a gate-level model's cells_w ports, in word order (gate_words.inc).
template <typename Model>
std::vector<const std::uint32_t*> cell_words(Model& model);
#include "gate_words.inc"

template <typename Model>
ActivityReport gate_activity(const GateUnit& gate, const Matrix* a, const Matrix* b, std::int64_t block_ops,
                             std::uint64_t seed) {
  const auto fa = make_format(gate.a_format), fb = make_format(gate.b_format);
  ActivityReport report;
  report.unit = gate.name();
  rtl::DpuHarness<Model> harness("", gate.latency);
  harness.load_codebooks(*fa, *fb);
  rtl::ToggleCounter counter(gate.cells);
  std::vector<std::uint32_t> words;
  std::vector<const std::uint32_t*> ports;
  harness.observe_edges([&](Model& model) {
    if (ports.empty()) ports = cell_words(model);
    words.resize(ports.size());
    for (size_t w = 0; w < ports.size(); ++w) words[w] = *ports[w];
    counter.sample(words.data());
  });
  std::mt19937_64 rng(seed);
  OperandStream stream_a(*fa, a), stream_b(*fb, b);
  std::vector<float> rtl;
  while (report.block_ops < block_ops) {
    const QuantizedTensor qa = stream_a.next(rng), qb = stream_b.next(rng);
    const std::vector<float> golden = golden_accumulator_trace(ExactOperand(qa), 0, ExactOperand(qb), 0);
    int bad = -1;
    const int mismatches = harness.run(qa, qb, golden, rtl, bad);
    report.block_ops += rtl::kSequence;
    report.mismatches += mismatches;
    if (mismatches && report.first_mismatch.empty()) {
      std::ostringstream s;
      s << "block " << bad << " of a sequence: gate-level acc 0x" << std::hex
        << std::bit_cast<std::uint32_t>(rtl[static_cast<size_t>(bad)]) << ", golden 0x"
        << std::bit_cast<std::uint32_t>(golden[static_cast<size_t>(bad)]);
      report.first_mismatch = s.str();
    }
  }
  report.cycles = counter.intervals();
  for (size_t t = 0; t < gate.cells.size(); ++t) {
    report.cells.push_back({gate.cells[t].type, gate.cells[t].cells, counter.toggles(t)});
  }
  return report;
}

template <typename Model>
CosimReport gate_cosim(const GateUnit& gate, std::int64_t vectors, std::uint64_t seed) {
  return rtl::cosim_dpu<Model>(gate.name(), gate.latency, gate.a_format, gate.b_format, vectors, seed, "");
}

const std::vector<GateUnit>& units() {
  static const std::vector<GateUnit> all = {
#include "gate_configs.inc"
  };
  return all;
}

const GateUnit& find_gate(const std::string& unit) {
  std::string known;
  for (const GateUnit& g : units()) {
    if (g.name() == unit) return g;
    known += (known.empty() ? "" : ", ") + g.name();
  }
  throw Error("no gate-level model of '" + unit + "' in this build (built: " + (known.empty() ? "none" : known) +
              "; configure with -DNIBBLE_GATE_CONFIGS=all for every configuration)");
}

}  // namespace

const std::vector<std::string>& gate_units() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const GateUnit& g : units()) n.push_back(g.name());
    return n;
  }();
  return names;
}

ActivityReport run_activity(const std::string& unit, const Matrix* a, const Matrix* b, std::int64_t block_ops,
                            std::uint64_t seed) {
  const GateUnit& gate = find_gate(unit);
  return gate.activity(gate, a, b, block_ops, seed);
}

CosimReport run_gate_cosim(const std::string& unit, std::int64_t vectors, std::uint64_t seed) {
  const GateUnit& gate = find_gate(unit);
  return gate.cosim(gate, vectors, seed);
}

}  // namespace nibble

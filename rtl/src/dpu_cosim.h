#pragma once
// The dot-product-unit harness, generic over the Verilated model of one configuration. Every
// unit has the same ports (clk_i, rst_ni, clear_i, valid_i, a_i, b_i, a_scale_i, b_scale_i,
// acc_o), takes its codes in nibble's packed layout and states its latency (the LATENCY
// localparam, verilator public: clock edges from a block's sampling edge to its accumulation,
// 2 + PIPE_STAGES), so one harness serves all.
#include <verilated.h>
#include <verilated_fst_c.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "nibble/models/bcq.h"
#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "nibble/models/scale.h"
#include "nibble/rtl/cosim.h"

namespace nibble::rtl {

constexpr int kSequence = 8;  // blocks accumulated between clears

// One operand of a sequence: a 1 x (kSequence * block) quantized tensor (see dpu_cosim.cpp
// for the modes).
// Units with codebook registers (dpu_bcq) also take selectors and a codebook write port.
template <typename Model>
concept HasCodebooks = requires(Model& m) { m.cb_we_i; m.a_sel_i; };

QuantizedTensor random_operand(const BlockFormat& format, std::mt19937_64& rng, int mode);
bool same_result(float rtl, float golden);

template <typename Model>
concept Traceable = requires(Model& m, VerilatedFstC* t) { m.trace(t, 99); };

template <typename Model>
class DpuHarness {
 public:
  DpuHarness(const std::string& waveform, int latency)
      : context_(std::make_unique<VerilatedContext>()), latency_(latency) {
    if (!waveform.empty()) context_->traceEverOn(true);
    model_ = std::make_unique<Model>(context_.get());
    if constexpr (Traceable<Model>) {  // the gate-level models are Verilated without tracing
      if (!waveform.empty()) {
        trace_ = std::make_unique<VerilatedFstC>();
        model_->trace(trace_.get(), 99);
        trace_->open(waveform.c_str());
      }
    }
    model_->rst_ni = 0;
    model_->clear_i = 0;
    model_->valid_i = 0;
    tick();
    tick();
    model_->rst_ni = 1;
  }
  ~DpuHarness() {
    if (trace_) trace_->close();
    model_->final();
  }

  // Writes the codebooks of two BCQ formats into the unit's register files.
  void load_codebooks(const BlockFormat& a, const BlockFormat& b) {
    if constexpr (HasCodebooks<Model>) {
      int side = 0;
      for (const BlockFormat* f : {&a, &b}) {
        const Codebooks& books = *bcq_codebooks(*f);
        const std::uint32_t mask = (1u << bcq_params(*f)->entry_bits) - 1;
        for (int c = 0; c < books.count; ++c) {
          for (int k = 0; k < books.entries; ++k) {
            model_->cb_we_i = 1;
            model_->cb_side_i = side;
            model_->cb_addr_i = static_cast<std::uint32_t>(c * 16 + k);
            model_->cb_data_i = static_cast<std::uint32_t>(static_cast<std::int32_t>(books.book(c)[k])) & mask;
            tick();
          }
        }
        ++side;
      }
      model_->cb_we_i = 0;
    }
  }

  // Calls `observe` after every rising clock edge from now on (the gate-level activity count).
  void observe_edges(std::function<void(Model&)> observe) { observe_ = std::move(observe); }

  // Runs one sequence; returns how many blocks left the accumulator different from golden,
  // with `rtl_out` holding the RTL accumulator after every block.
  int run(const QuantizedTensor& a, const QuantizedTensor& b, const std::vector<float>& golden,
          std::vector<float>& rtl_out, int& first_bad) {
    model_->clear_i = 1;
    tick();
    model_->clear_i = 0;
    first_bad = -1;
    int bad = 0;
    rtl_out.assign(kSequence, 0.0f);
    const int a_bytes = a.block * a.element_bits / 8, b_bytes = b.block * b.element_bits / 8;
    for (int t = 0; t < kSequence + latency_; ++t) {
      model_->valid_i = t < kSequence;
      if (t < kSequence) {
        load(model_->a_i, a.elements.data() + t * a_bytes, a_bytes);
        load(model_->b_i, b.elements.data() + t * b_bytes, b_bytes);
        model_->a_scale_i = load_scale(a.scales.data() + t * a.scale_bytes, a.scale_bytes);
        model_->b_scale_i = load_scale(b.scales.data() + t * b.scale_bytes, b.scale_bytes);
        if constexpr (HasCodebooks<Model>) {
          load(model_->a_sel_i, a.aux.data() + t * a.aux_bytes, a.aux_bytes);
          load(model_->b_sel_i, b.aux.data() + t * b.aux_bytes, b.aux_bytes);
        }
      }
      tick();
      if (t >= latency_) {
        const int j = t - latency_;
        rtl_out[j] = std::bit_cast<float>(static_cast<std::uint32_t>(model_->acc_o));
        if (!same_result(rtl_out[j], golden[j])) {
          ++bad;
          if (first_bad < 0) first_bad = j;
        }
      }
    }
    return bad;
  }

 private:
  template <typename Wide>
  static void load(Wide& port, const std::uint8_t* bytes, int count) {
    if constexpr (std::is_integral_v<Wide>) {  // ports of up to 64 bits
      Wide value = 0;
      std::memcpy(&value, bytes, static_cast<size_t>(count));
      port = value;
    } else {
      for (int w = 0; w < count / 4; ++w) {
        std::uint32_t word;
        std::memcpy(&word, bytes + 4 * w, 4);
        port[w] = word;
      }
    }
  }
  void tick() {
    model_->clk_i = 0;
    model_->eval();
    if (trace_) trace_->dump(context_->time());
    context_->timeInc(1);
    model_->clk_i = 1;
    model_->eval();
    if (trace_) trace_->dump(context_->time());
    context_->timeInc(1);
    if (observe_) observe_(*model_);
  }

  std::unique_ptr<VerilatedContext> context_;
  int latency_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<VerilatedFstC> trace_;
  std::function<void(Model&)> observe_;
};

// A stimulus pool: generating and quantizing operands costs more than simulating them, so
// pairs are drawn from kPool generated sequences per side, one of which is regenerated every
// kRefreshEvery sequences. Sequences whose A and B belong together (cancellation: B repeats
// the blocks that A negates; zeros; ties; maxima) are always driven as their own pair.
constexpr int kPool = 64;
constexpr int kRefreshEvery = 16;

struct Stimulus {
  QuantizedTensor a, b;
  ExactOperand exact_a, exact_b;
  int mode;
};

// A and B as the unit's formats store them; the exact operands as the golden formats read them.
Stimulus make_stimulus(const BlockFormat& fa, const BlockFormat& fb, const BlockFormat& golden_a,
                       const BlockFormat& golden_b, std::mt19937_64& rng);
// The format the golden model reads `unit_format`'s blocks as (GoldenFormats); throws
// nibble::Error unless it stores blocks the same way.
std::shared_ptr<const BlockFormat> golden_format(const std::shared_ptr<const BlockFormat>& unit_format,
                                                 const std::string& name);

template <typename Model>
CosimReport cosim_dpu(const std::string& unit, int latency, const std::string& a_format,
                      const std::string& b_format, std::int64_t vectors, std::uint64_t seed,
                      const std::string& waveform, const GoldenFormats& golden = {}) {
  const auto fa = make_format(a_format), fb = make_format(b_format);
  const auto ga = golden_format(fa, golden.a), gb = golden_format(fb, golden.b);
  CosimReport report;
  report.unit = unit;
  std::mt19937_64 rng(seed);
  struct Sequence {
    QuantizedTensor a, b;
    std::vector<float> golden;
  };
  std::optional<Sequence> first_bad;
  const auto start = std::chrono::steady_clock::now();
  {
    DpuHarness<Model> harness("", latency);
    harness.load_codebooks(*fa, *fb);
    std::vector<Stimulus> pool;
    for (int i = 0; i < kPool; ++i) pool.push_back(make_stimulus(*fa, *fb, *ga, *gb, rng));
    std::vector<float> rtl(kSequence);
    for (std::int64_t sequence = 0; report.vectors < vectors; ++sequence) {
      if (sequence % kRefreshEvery == kRefreshEvery - 1) pool[rng() % kPool] = make_stimulus(*fa, *fb, *ga, *gb, rng);
      const Stimulus& sa = pool[rng() % kPool];
      const Stimulus& sb = sa.mode >= 4 ? sa : pool[rng() % kPool];
      const std::vector<float> golden = golden_accumulator_trace(sa.exact_a, 0, sb.exact_b, 0);
      int bad = -1;
      const int mismatches = harness.run(sa.a, sb.b, golden, rtl, bad);
      report.vectors += kSequence;
      report.mismatches += mismatches;
      if (mismatches == 0 || first_bad) continue;
      const QuantizedTensor &a = sa.a, &b = sb.b;
      std::ostringstream s;
      s << "block " << bad << " of a sequence (modes " << sa.mode << ", " << sb.mode
        << "): scale codes a=0x" << std::hex
        << load_scale(a.scales.data() + bad * a.scale_bytes, a.scale_bytes) << " b=0x"
        << load_scale(b.scales.data() + bad * b.scale_bytes, b.scale_bytes) << ", rtl acc=0x"
        << std::bit_cast<std::uint32_t>(rtl[bad]) << " golden=0x"
        << std::bit_cast<std::uint32_t>(golden[bad]) << std::dec << " (" << rtl[bad] << " vs "
        << golden[bad] << "), previous golden acc=" << (bad ? golden[bad - 1] : 0.0f);
      report.first_mismatch = s.str();
      first_bad = Sequence{a, b, golden};
    }
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  // Replayed with tracing once the untraced model is gone: two live models of one Verilated
  // class, one of them traced, crash Verilator 5.006 when the second is destroyed.
  if (first_bad && Traceable<Model> && !waveform.empty()) {
    DpuHarness<Model> traced(waveform, latency);
    traced.load_codebooks(*fa, *fb);
    std::vector<float> rtl;
    int ignored = -1;
    traced.run(first_bad->a, first_bad->b, first_bad->golden, rtl, ignored);
    report.waveform = waveform;
  }
  return report;
}

template <typename Model>
void trace_dpu(int latency, const std::string& a_format, const std::string& b_format,
               std::uint64_t seed, const std::string& waveform) {
  const auto fa = make_format(a_format), fb = make_format(b_format);
  std::mt19937_64 rng(seed);
  const Stimulus s = make_stimulus(*fa, *fb, *fa, *fb, rng);
  DpuHarness<Model> traced(waveform, latency);
  traced.load_codebooks(*fa, *fb);
  std::vector<float> rtl;
  int ignored = -1;
  traced.run(s.a, s.b, golden_accumulator_trace(s.exact_a, 0, s.exact_b, 0), rtl, ignored);
}

}  // namespace nibble::rtl

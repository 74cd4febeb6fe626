#pragma once
// The dpu_mx harness, generic over the Verilated model class of one configuration.
#include <verilated.h>
#include <verilated_fst_c.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>

#include "nibble/models/dot.h"
#include "nibble/models/element.h"
#include "nibble/models/registry.h"
#include "nibble/rtl/cosim.h"

namespace nibble::rtl {

constexpr int kMxBlock = 32;
constexpr int kSequence = 8;     // blocks accumulated between clears
constexpr int kMxLatency = 2;    // edges from a block's sampling edge to its accumulation

// One operand of a sequence: a 1 x (kSequence * 32) quantized tensor.
QuantizedTensor random_operand(const BlockFormat& format, std::mt19937_64& rng, int mode);
bool same_result(float rtl, float golden);

template <typename Model>
class DpuMxHarness {
 public:
  DpuMxHarness(const std::string& waveform) : context_(std::make_unique<VerilatedContext>()) {
    if (!waveform.empty()) context_->traceEverOn(true);
    model_ = std::make_unique<Model>(context_.get());
    if (!waveform.empty()) {
      trace_ = std::make_unique<VerilatedFstC>();
      model_->trace(trace_.get(), 99);
      trace_->open(waveform.c_str());
    }
    model_->rst_ni = 0;
    model_->clear_i = 0;
    model_->valid_i = 0;
    tick();
    tick();
    model_->rst_ni = 1;
  }
  ~DpuMxHarness() {
    if (trace_) trace_->close();
    model_->final();
  }

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
    const int a_bytes = kMxBlock * a.element_bits / 8, b_bytes = kMxBlock * b.element_bits / 8;
    for (int t = 0; t < kSequence + kMxLatency; ++t) {
      model_->valid_i = t < kSequence;
      if (t < kSequence) {
        load(model_->a_i, a.elements.data() + t * a_bytes, a_bytes);
        load(model_->b_i, b.elements.data() + t * b_bytes, b_bytes);
        model_->a_scale_i = a.scales[t];
        model_->b_scale_i = b.scales[t];
      }
      tick();
      if (t >= kMxLatency) {
        const int j = t - kMxLatency;
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
    for (int w = 0; w < count / 4; ++w) {
      std::uint32_t word;
      std::memcpy(&word, bytes + 4 * w, 4);
      port[w] = word;
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
  }

  std::unique_ptr<VerilatedContext> context_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<VerilatedFstC> trace_;
};

template <typename Model>
CosimReport cosim_dpu_mx(const std::string& unit, const std::string& a_format,
                         const std::string& b_format, std::int64_t vectors, std::uint64_t seed,
                         const std::string& waveform) {
  const auto fa = make_format(a_format), fb = make_format(b_format);
  CosimReport report;
  report.unit = unit;
  std::mt19937_64 rng(seed);
  DpuMxHarness<Model> harness("");
  std::vector<float> rtl(kSequence);
  const auto start = std::chrono::steady_clock::now();
  while (report.vectors < vectors) {
    const int mode = static_cast<int>(rng() % 6);
    const QuantizedTensor a = random_operand(*fa, rng, mode);
    const QuantizedTensor b = random_operand(*fb, rng, mode == 5 ? 0 : mode);
    const std::vector<float> golden = golden_accumulator_trace(ExactOperand(a), 0, ExactOperand(b), 0);
    int bad = -1;
    const int mismatches = harness.run(a, b, golden, rtl, bad);
    report.vectors += kSequence;
    report.mismatches += mismatches;
    if (mismatches == 0 || !report.first_mismatch.empty()) continue;
    std::ostringstream s;
    s << "block " << bad << " of a sequence (mode " << mode << "): scales a=" << int(a.scales[bad])
      << " b=" << int(b.scales[bad]) << ", rtl acc=" << rtl[bad] << " (0x" << std::hex
      << std::bit_cast<std::uint32_t>(rtl[bad]) << ") golden=" << std::dec << golden[bad] << " (0x"
      << std::hex << std::bit_cast<std::uint32_t>(golden[bad]) << ")" << std::dec
      << ", previous golden acc=" << (bad ? golden[bad - 1] : 0.0f);
    report.first_mismatch = s.str();
    if (!waveform.empty()) {
      DpuMxHarness<Model> traced(waveform);
      int ignored = -1;
      traced.run(a, b, golden, rtl, ignored);
      report.waveform = waveform;
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace nibble::rtl

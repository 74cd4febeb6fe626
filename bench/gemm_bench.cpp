// Golden GEMM throughput (multiply-accumulates per second), from quantized tensors (decoding
// included) and from operands decoded once, on 1 and 2 threads; beside it the core's peak of
// the multiply-adds the kernels issue, measured in the same run on registers alone, so that
// bench/RESULTS.md can record each figure as a fraction of what the core can do.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>

#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "nibble/models/simd.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gemm_bench.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace peak {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Eight independent chains, enough to cover either instruction's latency at one or two per
// cycle. Each int16 multiply takes its chain's sum as one operand, so that it cannot be
// hoisted out of the loop (the double multiply-add is fused, so it cannot be either).
// `rounds` x 8 widening multiply-adds of int16 pairs into int32 lanes (what the int16 kernel
// issues per B vector); returns the multiply-accumulates done.
double int16_pairs(const std::int16_t* operands, std::int64_t rounds, std::int32_t* sink) {
#if HWY_TARGET == HWY_SCALAR  // no int16 pairs in one lane; the GEMM's scalar path runs there
  (void)operands, (void)rounds, (void)sink;
  return 0;
#else
  const hn::ScalableTag<std::int32_t> d32;
  const hn::Repartition<std::int16_t, decltype(d32)> d16;
  const auto b = hn::LoadU(d16, operands);
  auto s0 = hn::BitCast(d32, hn::LoadU(d16, operands + hn::Lanes(d16)));
  auto s1 = hn::Add(s0, hn::Set(d32, 1)), s2 = hn::Add(s1, s1), s3 = hn::Add(s2, s0);
  auto s4 = hn::Add(s3, s1), s5 = hn::Add(s4, s1), s6 = hn::Add(s5, s1), s7 = hn::Add(s6, s1);
  auto t0 = hn::Zero(d32), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0;
  for (std::int64_t r = 0; r < rounds; ++r) {
    s0 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s0), b, s0, t0);
    s1 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s1), b, s1, t1);
    s2 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s2), b, s2, t2);
    s3 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s3), b, s3, t3);
    s4 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s4), b, s4, t4);
    s5 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s5), b, s5, t5);
    s6 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s6), b, s6, t6);
    s7 = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, s7), b, s7, t7);
  }
  const auto sum = hn::Add(hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)),
                           hn::Add(hn::Add(s4, s5), hn::Add(s6, s7)));
  const auto rest = hn::Add(hn::Add(hn::Add(t0, t1), hn::Add(t2, t3)),
                            hn::Add(hn::Add(t4, t5), hn::Add(t6, t7)));
  hn::StoreU(hn::Add(sum, rest), d32, sink);
  return static_cast<double>(rounds) * 8 * static_cast<double>(hn::Lanes(d16));
#endif
}

// `rounds` x 8 double multiply-adds (what the double kernel issues per B vector).
double double_fmas(const double* operands, std::int64_t rounds, double* sink) {
  const hn::ScalableTag<double> d;
  const auto a = hn::LoadU(d, operands), b = hn::LoadU(d, operands + hn::Lanes(d));
  auto s0 = hn::Zero(d), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  for (std::int64_t r = 0; r < rounds; ++r) {
    s0 = hn::MulAdd(a, b, s0);
    s1 = hn::MulAdd(a, b, s1);
    s2 = hn::MulAdd(a, b, s2);
    s3 = hn::MulAdd(a, b, s3);
    s4 = hn::MulAdd(a, b, s4);
    s5 = hn::MulAdd(a, b, s5);
    s6 = hn::MulAdd(a, b, s6);
    s7 = hn::MulAdd(a, b, s7);
  }
  const auto sum = hn::Add(hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)),
                           hn::Add(hn::Add(s4, s5), hn::Add(s6, s7)));
  hn::StoreU(sum, d, sink);
  return static_cast<double>(rounds) * 8 * static_cast<double>(hn::Lanes(d));
}

}  // namespace HWY_NAMESPACE
}  // namespace peak
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace peak {
HWY_EXPORT(int16_pairs);
HWY_EXPORT(double_fmas);
}  // namespace peak

namespace {

constexpr std::int64_t kPeakRounds = 1 << 20;

// Times one peak loop; its operands are small numbers that neither overflow nor denormalize.
template <typename T, typename Sink, size_t kOperands>
void peak_benchmark(benchmark::State& state, double (*loop)(const T*, std::int64_t, Sink*)) {
  std::array<T, kOperands> operands{};
  for (size_t i = 0; i < operands.size(); ++i) operands[i] = static_cast<T>(i % 7) - 3;
  std::array<Sink, 64> sink{};
  double macs = 0;
  for (auto _ : state) {
    macs = loop(operands.data(), kPeakRounds, sink.data());
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(macs, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(nibble::simd_target());
}

void BM_PeakInt16PairMulAdd(benchmark::State& state) {
  peak_benchmark<std::int16_t, std::int32_t, 256>(state, HWY_DYNAMIC_DISPATCH(peak::int16_pairs));
}
BENCHMARK(BM_PeakInt16PairMulAdd)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PeakDoubleMulAdd(benchmark::State& state) {
  peak_benchmark<double, double, 64>(state, HWY_DYNAMIC_DISPATCH(peak::double_fmas));
}
BENCHMARK(BM_PeakDoubleMulAdd)->Unit(benchmark::kMillisecond)->UseRealTime();

nibble::Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
  nibble::Matrix x(rows, cols);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  for (float& v : x.data) v = normal(rng);
  return x;
}

// Args: M, N, K, threads. Operand: QuantizedTensor (golden_gemm decodes both every call) or
// ExactOperand (decoded once, outside the loop: the GEMM without the formats' exact_row,
// which costs about as much at M = 64).
template <typename Operand>
void gemm_benchmark(benchmark::State& state, const char* format) {
  const auto m = state.range(0), n = state.range(1), k = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const auto f = nibble::make_format(format);
  const Operand a(f->quantize(random_matrix(m, k, 1)));
  const Operand b(f->quantize(random_matrix(n, k, 2)));
  for (auto _ : state) {
    auto c = nibble::golden_gemm(a, b, nibble::Accumulator::kFp32, threads);
    benchmark::DoNotOptimize(c.data.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(m * n * k),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

void BM_GoldenGemm(benchmark::State& state, const char* format) {
  gemm_benchmark<nibble::QuantizedTensor>(state, format);
}

void BM_GoldenGemmDecoded(benchmark::State& state, const char* format) {
  gemm_benchmark<nibble::ExactOperand>(state, format);
}

#define NIBBLE_GEMM_BENCH(format)                                                         \
  BENCHMARK_CAPTURE(BM_GoldenGemm, format, #format)                                       \
      ->Args({64, 512, 4096, 1})->Args({64, 512, 4096, 2})                                 \
      ->Unit(benchmark::kMillisecond)->UseRealTime();                                      \
  BENCHMARK_CAPTURE(BM_GoldenGemmDecoded, format, #format)                                \
      ->Args({64, 512, 4096, 1})->Args({64, 512, 4096, 2})                                 \
      ->Unit(benchmark::kMillisecond)->UseRealTime()

NIBBLE_GEMM_BENCH(mxfp4);
NIBBLE_GEMM_BENCH(nvfp4);
NIBBLE_GEMM_BENCH(int4_g128);
NIBBLE_GEMM_BENCH(mxfp8_e4m3);
NIBBLE_GEMM_BENCH(mxint8);
NIBBLE_GEMM_BENCH(int8_g32);

}  // namespace
#endif  // HWY_ONCE

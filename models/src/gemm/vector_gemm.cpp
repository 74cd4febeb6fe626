// The golden GEMM's vector path. Each tile holds R rows of A against one panel of B (as many
// columns as the target has 32-bit or 64-bit lanes) and walks every K-block in order:
//
//   block sum s   = sum a_i * b_i           exact: int32 lanes (int16 elements) or double lanes
//   partial       = (s * S_A) * S_B         exact in double (bounds below)
//   fp32 partial  = DemoteTo(partial)       the one RNE rounding (subnormals, overflow to Inf)
//   acc           = acc + fp32 partial      FP32, K order, as the scalar path
//
// Why every step is exact (element_kernel() and scales_fit() check each bound on the pair
// before a kernel runs):
// - |s| <= max_a * max_b * block (the formats' max_element_integer). The int16 kernel needs
//   both maxima <= 2^15 - 1 and that bound <= 2^31 - 1; the double kernel needs it < 2^53,
//   where every product and running sum is an integer that double holds exactly.
// - A scale is m * 2^e with m odd and |m| <= the largest such m among the operand's scales
//   (UE4M3: 15, FP16: 2^11 - 1, E8M0: 1); the element exponent is folded into e, so
//   S_A = m_A * 2^(e_A) is one double. s * m_A * m_B is an integer;
//   below 2^53 it, and s * m_A on the way, are exact doubles as long as no exponent leaves
//   double's range: with |e| <= 480 on each side the lowest bit stays above 2^-960 (double
//   reaches 2^-1074) and the top below 2^(53+960) < 2^1024.
// - An exact double converts to FP32 with a single rounding to nearest even (IEEE 754
//   conversion; the default rounding mode, which nothing in nibble changes), the same value
//   round_to_fp32 gives, FP32 subnormals and overflow to +-Inf included.
// NaN scales are not computed: a block with a NaN scale makes the whole output NaN, so an
// output is NaN exactly when its A row or its B row holds one; those outputs are set to NaN
// afterwards, as the scalar path returns them.
#include "gemm/vector_gemm.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "nibble/models/parallel.h"

#ifndef NIBBLE_GEMM_VECTOR_GEMM_PACKED
#define NIBBLE_GEMM_VECTOR_GEMM_PACKED
namespace nibble::gemm {

// Both operands in a kernel's layout; a panel is `lanes` B rows (C columns), zero-padded.
//   int16 kernel:  a16[i][k][t]                  t < block_stride (block rounded up to even)
//                  b16[panel][k][t / 2][lane][t % 2]   (pairs, as the widening multiply reads)
//   double kernel: a64[i][k][t], b64[panel][k][t][lane]   (block_stride = block)
//   scales as doubles (element exponent included, NaN as 0): a_scales[i][k],
//   b_scales[panel][k][lane]
// c receives the FP32 accumulators, m x n, before the tensor scales.
struct Packed {
  std::int64_t m = 0, n = 0, blocks = 0;
  int block_stride = 0, lanes = 0;
  const std::int16_t* a16 = nullptr;
  const std::int16_t* b16 = nullptr;
  const double* a64 = nullptr;
  const double* b64 = nullptr;
  const double* a_scales = nullptr;
  const double* b_scales = nullptr;
  float* c = nullptr;
};

}  // namespace nibble::gemm
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "gemm/vector_gemm.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace nibble::gemm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One-lane and scalable targets keep the scalar path: the tiles below need half vectors and
// arrays of vectors, which those targets do not have. So does EMU128, whose DemoteTo from
// double saturates to the float range: an overflowing partial would become FLT_MAX, not Inf.
#if HWY_TARGET == HWY_SCALAR || HWY_TARGET == HWY_EMU128 || HWY_HAVE_SCALABLE

int panel_lanes(Kernel /*kernel*/) { return 0; }
void run_kernel(const Packed& /*p*/, Kernel /*kernel*/, int /*threads*/) {}

#else

using D32 = hn::ScalableTag<std::int32_t>;
using D16 = hn::Repartition<std::int16_t, D32>;
using DH32 = hn::Half<D32>;
using DF64 = hn::Rebind<double, DH32>;   // half the int32 lanes, as doubles: a full vector
using DF32 = hn::Repartition<float, D32>;
using DHF32 = hn::Rebind<float, DF64>;
using DD = hn::ScalableTag<double>;
using DDF = hn::Rebind<float, DD>;

int panel_lanes(Kernel kernel) {
  return static_cast<int>(kernel == Kernel::kInt16 ? hn::Lanes(D32()) : hn::Lanes(DD()));
}

template <class D>
void store_accumulators(D d, hn::Vec<D> acc, const Packed& p, std::int64_t row,
                        std::int64_t col) {
  float* out = p.c + row * p.n + col;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(d));
  if (col + lanes <= p.n) {
    hn::StoreU(acc, d, out);
    return;
  }
  float lane_values[HWY_MAX_BYTES / sizeof(float)];
  hn::StoreU(acc, d, lane_values);
  std::copy(lane_values, lane_values + (p.n - col), out);
}

template <int R>
void int16_tile(const Packed& p, std::int64_t i0, std::int64_t panel) {
  const D32 d32;
  const D16 d16;
  const DH32 dh32;
  const DF64 df64;
  const DF32 df32;
  const DHF32 dhf32;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(d32));
  const std::int64_t a_stride = p.blocks * p.block_stride;
  const int pairs = p.block_stride / 2;
  hn::Vec<DF32> acc[R];
  for (auto& v : acc) v = hn::Zero(df32);
  for (std::int64_t k = 0; k < p.blocks; ++k) {
    const std::int16_t* bk = p.b16 + (panel * p.blocks + k) * p.block_stride * lanes;
    const std::int16_t* ak = p.a16 + i0 * a_stride + k * p.block_stride;
    hn::Vec<D32> sum0[R], sum1[R];
    for (int r = 0; r < R; ++r) sum0[r] = sum1[r] = hn::Zero(d32);
    for (int q = 0; q < pairs; ++q) {
      const auto b = hn::LoadU(d16, bk + 2 * q * lanes);
      for (int r = 0; r < R; ++r) {
        std::int32_t pair;  // a[2q], a[2q+1], broadcast to every lane
        std::memcpy(&pair, ak + r * a_stride + 2 * q, sizeof pair);
        sum0[r] = hn::ReorderWidenMulAccumulate(d32, hn::BitCast(d16, hn::Set(d32, pair)), b,
                                                sum0[r], sum1[r]);
      }
    }
    const double* sb = p.b_scales + (panel * p.blocks + k) * lanes;
    const auto sb_lo = hn::LoadU(df64, sb);
    const auto sb_hi = hn::LoadU(df64, sb + lanes / 2);
    for (int r = 0; r < R; ++r) {
      const auto s = hn::RearrangeToOddPlusEven(sum0[r], sum1[r]);
      const auto sa = hn::Set(df64, p.a_scales[(i0 + r) * p.blocks + k]);
      const auto lo = hn::Mul(hn::Mul(hn::PromoteTo(df64, hn::LowerHalf(dh32, s)), sa), sb_lo);
      const auto hi = hn::Mul(hn::Mul(hn::PromoteTo(df64, hn::UpperHalf(dh32, s)), sa), sb_hi);
      acc[r] = hn::Add(acc[r], hn::Combine(df32, hn::DemoteTo(dhf32, hi), hn::DemoteTo(dhf32, lo)));
    }
  }
  for (int r = 0; r < R; ++r) store_accumulators(df32, acc[r], p, i0 + r, panel * lanes);
}

template <int R>
void double_tile(const Packed& p, std::int64_t i0, std::int64_t panel) {
  const DD dd;
  const DDF ddf;
  const auto lanes = static_cast<std::int64_t>(hn::Lanes(dd));
  const std::int64_t a_stride = p.blocks * p.block_stride;
  hn::Vec<DDF> acc[R];
  for (auto& v : acc) v = hn::Zero(ddf);
  for (std::int64_t k = 0; k < p.blocks; ++k) {
    const double* bk = p.b64 + (panel * p.blocks + k) * p.block_stride * lanes;
    const double* ak = p.a64 + i0 * a_stride + k * p.block_stride;
    hn::Vec<DD> sum[R];
    for (auto& v : sum) v = hn::Zero(dd);
    for (int t = 0; t < p.block_stride; ++t) {
      const auto b = hn::LoadU(dd, bk + t * lanes);
      for (int r = 0; r < R; ++r) sum[r] = hn::MulAdd(hn::Set(dd, ak[r * a_stride + t]), b, sum[r]);
    }
    const auto sb = hn::LoadU(dd, p.b_scales + (panel * p.blocks + k) * lanes);
    for (int r = 0; r < R; ++r) {
      const auto sa = hn::Set(dd, p.a_scales[(i0 + r) * p.blocks + k]);
      acc[r] = hn::Add(acc[r], hn::DemoteTo(ddf, hn::Mul(hn::Mul(sum[r], sa), sb)));
    }
  }
  for (int r = 0; r < R; ++r) store_accumulators(ddf, acc[r], p, i0 + r, panel * lanes);
}

// Runs tile(R) for R = min(rows, kMaxRows): full tiles, then one tile of the remaining rows.
template <int kMaxRows, class Tile>
void tile_of(std::int64_t rows, const Tile& tile) {
  if constexpr (kMaxRows > 1) {
    if (rows < kMaxRows) return tile_of<kMaxRows - 1>(rows, tile);
  }
  tile(std::integral_constant<int, kMaxRows>());
}

// A rows per tile: each B load feeds this many multiply-adds, and as many independent sums
// hide the multiply-add latency (the double kernel's FMA chains need more of them).
constexpr int kInt16TileRows = 4;
constexpr int kDoubleTileRows = 8;
// A rows per parallel task; a task's panel (at most a few hundred KiB) stays in L2.
constexpr std::int64_t kTaskRows = 64;

void run_kernel(const Packed& p, Kernel kernel, int threads) {
  const std::int64_t panels = (p.n + p.lanes - 1) / p.lanes;
  const std::int64_t chunks = (p.m + kTaskRows - 1) / kTaskRows;
  parallel_for(panels * chunks, threads, [&](std::int64_t task) {
    const std::int64_t panel = task / chunks, first = task % chunks * kTaskRows;
    const std::int64_t end = std::min(p.m, first + kTaskRows);
    if (kernel == Kernel::kInt16) {
      for (std::int64_t i = first; i < end; i += kInt16TileRows) {
        tile_of<kInt16TileRows>(
            end - i, [&](auto rows) { int16_tile<decltype(rows)::value>(p, i, panel); });
      }
    } else {
      for (std::int64_t i = first; i < end; i += kDoubleTileRows) {
        tile_of<kDoubleTileRows>(
            end - i, [&](auto rows) { double_tile<decltype(rows)::value>(p, i, panel); });
      }
    }
  });
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace nibble::gemm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace nibble::gemm {

HWY_EXPORT(panel_lanes);
HWY_EXPORT(run_kernel);

namespace {

constexpr double kDoubleExact = 0x1p53;  // integers below this are exact doubles
constexpr int kExponentLimit = 480;      // see the header comment

// The scales of an operand as m * 2^e with m odd (ExactScale normalizes its mantissa to 24
// bits; the trailing zeros go into e) and the element exponent folded into e; NaN and zero
// scales are left out.
struct ScaleRange {
  double max_mantissa = 1;
  int min_exponent = 0, max_exponent = 0;

  void add(const ExactScale& s, int element_exponent) {
    const auto magnitude = static_cast<std::uint64_t>(std::abs(s.mantissa));
    if (s.nan || magnitude == 0) return;
    const int zeros = std::countr_zero(magnitude);
    const int e = s.exponent + zeros + element_exponent;
    max_mantissa = std::max(max_mantissa, static_cast<double>(magnitude >> zeros));
    min_exponent = std::min(min_exponent, e);
    max_exponent = std::max(max_exponent, e);
  }
  void add(const ScaleRange& r) {
    max_mantissa = std::max(max_mantissa, r.max_mantissa);
    min_exponent = std::min(min_exponent, r.min_exponent);
    max_exponent = std::max(max_exponent, r.max_exponent);
  }
};

// The kernel the element integers allow: |block sum| <= max_a * max_b * block.
Kernel element_kernel(double max_a, double max_b, int block) {
  const double sum_bound = max_a * max_b * block;
  constexpr double kInt16Max = std::numeric_limits<std::int16_t>::max();
  constexpr double kInt32Max = std::numeric_limits<std::int32_t>::max();
  if (max_a <= kInt16Max && max_b <= kInt16Max && sum_bound <= kInt32Max) return Kernel::kInt16;
  return sum_bound < kDoubleExact ? Kernel::kDouble : Kernel::kNone;
}

// Whether every partial s * S_A * S_B is an exact double (see the header comment).
bool scales_fit(double max_a, double max_b, int block, const ScaleRange& ra, const ScaleRange& rb) {
  if (max_a * max_b * block * ra.max_mantissa * rb.max_mantissa >= kDoubleExact) return false;
  return std::min(ra.min_exponent, rb.min_exponent) >= -kExponentLimit &&
         std::max(ra.max_exponent, rb.max_exponent) <= kExponentLimit;
}

// mantissa * 2^e, exact: the mantissa (< 2^24) converts exactly and a power of two in the
// normal range multiplies exactly; std::ldexp, a library call per block, was a tenth of the
// time of a small-block (nvfp4) GEMM.
double scale_value(const ExactScale& s, int element_exponent) {
  if (s.nan) return 0.0;
  const int e = s.exponent + element_exponent;
  const double mantissa = static_cast<double>(s.mantissa);
  if (e < -1022 || e > 1023) return std::ldexp(mantissa, e);
  return mantissa * std::bit_cast<double>(static_cast<std::uint64_t>(e + 1023) << 52);
}

// One operand as rows of exact integers and scales: decoded by its format (a quantized
// tensor, straight into the packed layout) or copied from an ExactOperand.
struct RowSource {
  std::int64_t rows = 0, padded = 0, blocks = 0;
  int block = 0, element_exponent = 0;
  double max_integer = 0;
  float tensor_scale = 1;
  std::function<void(std::int64_t, std::int64_t*, ExactScale*)> decode;
};

RowSource row_source(const QuantizedTensor& q) {
  return {q.rows, q.padded_cols(), q.blocks_per_row(), q.block, q.format->element_exponent(),
          static_cast<double>(q.format->max_element_integer()), q.tensor_scale,
          [&q](std::int64_t r, std::int64_t* integers, ExactScale* scales) {
            q.format->exact_row(q, r, {integers, scales});
          }};
}

RowSource row_source(const ExactOperand& x) {
  const std::int64_t padded = x.blocks_per_row() * x.block();
  return {x.rows(), padded, x.blocks_per_row(), x.block(), x.element_exponent(),
          static_cast<double>(x.max_element_integer()), x.tensor_scale(),
          [&x, padded](std::int64_t r, std::int64_t* integers, ExactScale* scales) {
            if (x.wide()) {
              std::copy_n(x.wide_row(r), padded, integers);
            } else {
              std::copy_n(x.narrow_row(r), padded, integers);
            }
            std::copy_n(x.scales_row(r), x.blocks_per_row(), scales);
          }};
}

// One operand in a kernel's layout (Packed), its scales as doubles, which rows hold a NaN
// scale, and the range of its scales. Buffers are not zeroed first: every element, padding
// included, is written once.
template <typename T>
struct PackedOperand {
  std::unique_ptr<T[]> elements;
  std::vector<double> scales;
  std::vector<char> nan_rows;
  ScaleRange range;
};

// Row r's decoded integers and scales, in buffers of this thread reused from row to row.
struct RowBuffers {
  std::vector<std::int64_t> integers;
  std::vector<ExactScale> scales;
};
RowBuffers& row_buffers(size_t integers, size_t scales) {
  thread_local RowBuffers buffers;
  buffers.integers.resize(integers);
  buffers.scales.resize(scales);
  return buffers;
}

// A: a[i][k][t], each block padded with zeros to `stride` elements; scales [i][k].
template <typename T>
PackedOperand<T> pack_a(const RowSource& x, int stride, int threads) {
  PackedOperand<T> out;
  out.elements =
      std::make_unique_for_overwrite<T[]>(static_cast<size_t>(x.rows * x.blocks * stride));
  out.scales.resize(static_cast<size_t>(x.rows * x.blocks));
  out.nan_rows.resize(static_cast<size_t>(x.rows));
  std::vector<ScaleRange> ranges(static_cast<size_t>(x.rows));
  parallel_for(x.rows, threads, [&](std::int64_t i) {
    RowBuffers& row = row_buffers(static_cast<size_t>(x.padded), static_cast<size_t>(x.blocks));
    x.decode(i, row.integers.data(), row.scales.data());
    for (std::int64_t k = 0; k < x.blocks; ++k) {
      T* dst = std::copy_n(row.integers.data() + k * x.block, x.block,
                           &out.elements[(i * x.blocks + k) * stride]);
      std::fill_n(dst, stride - x.block, T{0});
      const ExactScale& s = row.scales[static_cast<size_t>(k)];
      out.scales[static_cast<size_t>(i * x.blocks + k)] = scale_value(s, x.element_exponent);
      out.nan_rows[static_cast<size_t>(i)] |= s.nan;
      ranges[static_cast<size_t>(i)].add(s, x.element_exponent);
    }
  });
  for (const ScaleRange& r : ranges) out.range.add(r);
  return out;
}

// B as panels of `lanes` rows: element t of block k of the panel's row `lane` goes to
// [panel][k][t / kGroup][lane][t % kGroup] (kGroup = 2: the int16 kernel's pairs), written in
// that order from the panel's rows decoded side by side; scales [panel][k][lane]; rows past
// the end are zeros.
template <typename T, int kGroup>
PackedOperand<T> pack_b(const RowSource& x, int stride, int lanes, int threads) {
  const std::int64_t panels = (x.rows + lanes - 1) / lanes;
  PackedOperand<T> out;
  out.elements =
      std::make_unique_for_overwrite<T[]>(static_cast<size_t>(panels * lanes * x.blocks * stride));
  out.scales.resize(static_cast<size_t>(panels * lanes * x.blocks));
  out.nan_rows.resize(static_cast<size_t>(x.rows));
  std::vector<ScaleRange> ranges(static_cast<size_t>(panels));
  parallel_for(panels, threads, [&](std::int64_t panel) {
    RowBuffers& rows = row_buffers(static_cast<size_t>(lanes * x.padded),
                                   static_cast<size_t>(lanes * x.blocks));
    const std::int64_t columns = std::min<std::int64_t>(lanes, x.rows - panel * lanes);
    for (std::int64_t lane = 0; lane < lanes; ++lane) {
      std::int64_t* integers = rows.integers.data() + lane * x.padded;
      ExactScale* scales = rows.scales.data() + lane * x.blocks;
      if (lane >= columns) {
        std::fill_n(integers, x.padded, 0);
        std::fill_n(scales, x.blocks, ExactScale{});
        continue;
      }
      const std::int64_t j = panel * lanes + lane;
      x.decode(j, integers, scales);
      for (std::int64_t k = 0; k < x.blocks; ++k) {
        out.nan_rows[static_cast<size_t>(j)] |= scales[k].nan;
        ranges[static_cast<size_t>(panel)].add(scales[k], x.element_exponent);
      }
    }
    T* dst = &out.elements[panel * x.blocks * stride * lanes];
    for (std::int64_t k = 0; k < x.blocks; ++k) {
      for (int t = 0; t < stride; t += kGroup) {
        for (std::int64_t lane = 0; lane < lanes; ++lane, dst += kGroup) {
          const std::int64_t* in = rows.integers.data() + lane * x.padded + k * x.block;
          for (int g = 0; g < kGroup; ++g) {
            dst[g] = t + g < x.block ? static_cast<T>(in[t + g]) : T{0};
          }
        }
      }
      for (std::int64_t lane = 0; lane < lanes; ++lane) {
        out.scales[static_cast<size_t>((panel * x.blocks + k) * lanes + lane)] =
            scale_value(rows.scales[static_cast<size_t>(lane * x.blocks + k)], x.element_exponent);
      }
    }
  });
  for (const ScaleRange& r : ranges) out.range.add(r);
  return out;
}

// Packs both operands for `Kernel`'s element type, checks the scales and runs the kernel.
template <typename T, int kGroup>
std::optional<Matrix> packed_gemm(const RowSource& a, const RowSource& b, Kernel kernel,
                                  int lanes, int threads) {
  const int stride = kGroup == 2 ? (a.block + 1) / 2 * 2 : a.block;
  const PackedOperand<T> pa = pack_a<T>(a, stride, threads);
  const PackedOperand<T> pb = pack_b<T, kGroup>(b, stride, lanes, threads);
  if (!scales_fit(a.max_integer, b.max_integer, a.block, pa.range, pb.range)) return std::nullopt;
  Matrix c(a.rows, b.rows);
  Packed p;
  p.m = a.rows;
  p.n = b.rows;
  p.blocks = a.blocks;
  p.block_stride = stride;
  p.lanes = lanes;
  if constexpr (kGroup == 2) {
    p.a16 = pa.elements.get();
    p.b16 = pb.elements.get();
  } else {
    p.a64 = pa.elements.get();
    p.b64 = pb.elements.get();
  }
  p.a_scales = pa.scales.data();
  p.b_scales = pb.scales.data();
  p.c = c.data.data();
  HWY_DYNAMIC_DISPATCH(run_kernel)(p, kernel, threads);
  for (std::int64_t i = 0; i < c.rows; ++i) {
    float* out = c.row(i);
    for (std::int64_t j = 0; j < c.cols; ++j) {
      out[j] = pa.nan_rows[static_cast<size_t>(i)] || pb.nan_rows[static_cast<size_t>(j)]
                   ? std::numeric_limits<float>::quiet_NaN()
                   : out[j] * a.tensor_scale * b.tensor_scale;
    }
  }
  return c;
}

std::optional<Matrix> source_gemm(const RowSource& a, const RowSource& b, int threads) {
  const Kernel kernel = element_kernel(a.max_integer, b.max_integer, a.block);
  if (kernel == Kernel::kNone) return std::nullopt;
  const int lanes = HWY_DYNAMIC_DISPATCH(panel_lanes)(kernel);
  if (lanes == 0) return std::nullopt;
  return kernel == Kernel::kInt16 ? packed_gemm<std::int16_t, 2>(a, b, kernel, lanes, threads)
                                  : packed_gemm<double, 1>(a, b, kernel, lanes, threads);
}

}  // namespace

Kernel vector_kernel(const ExactOperand& a, const ExactOperand& b) {
  const auto max_a = static_cast<double>(a.max_element_integer());
  const auto max_b = static_cast<double>(b.max_element_integer());
  const Kernel kernel = element_kernel(max_a, max_b, a.block());
  ScaleRange ra, rb;
  for (std::int64_t i = 0; i < a.rows() * a.blocks_per_row(); ++i) {
    ra.add(a.scales_row(0)[i], a.element_exponent());
  }
  for (std::int64_t i = 0; i < b.rows() * b.blocks_per_row(); ++i) {
    rb.add(b.scales_row(0)[i], b.element_exponent());
  }
  return scales_fit(max_a, max_b, a.block(), ra, rb) ? kernel : Kernel::kNone;
}

bool vector_kernels_available() { return HWY_DYNAMIC_DISPATCH(panel_lanes)(Kernel::kInt16) > 0; }

std::optional<Matrix> vector_golden_gemm(const ExactOperand& a, const ExactOperand& b,
                                         int threads) {
  return source_gemm(row_source(a), row_source(b), threads);
}

std::optional<Matrix> vector_golden_gemm(const QuantizedTensor& a, const QuantizedTensor& b,
                                         int threads) {
  return source_gemm(row_source(a), row_source(b), threads);
}

}  // namespace nibble::gemm
#endif  // HWY_ONCE

#include "nibble/models/dot.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "gemm/vector_gemm.h"
#include "nibble/models/error.h"
#include "nibble/models/parallel.h"

namespace nibble {

Accumulator accumulator_from_name(std::string_view name) {
  if (name == "fp32") return Accumulator::kFp32;
  if (name == "exact") return Accumulator::kExact;
  throw Error("unknown accumulator '" + std::string(name) + "' (known: fp32, exact)");
}

namespace {

int msb_index(unsigned __int128 v) {
  const auto hi = static_cast<std::uint64_t>(v >> 64);
  return hi ? 127 - std::countl_zero(hi) : 63 - std::countl_zero(static_cast<std::uint64_t>(v));
}

}  // namespace

// The kept significand is at most 24 bits; its last bit sits at 2^lsb with
// lsb = max(E - 23, -149) for a value in [2^E, 2^(E+1)). Dropped bits decide the rounding:
//
//   magnitude:  [ kept (<= 24 bits) | dropped bits (shift) ]   + sticky below
//                                     ^ half = 100...0
float round_to_fp32(unsigned __int128 magnitude, int exponent, bool negative, bool sticky) {
  const float sign = negative ? -1.0f : 1.0f;
  if (magnitude == 0) return sign * 0.0f;
  const int top = msb_index(magnitude);
  const int e = top + exponent;
  if (e > 127) return sign * std::numeric_limits<float>::infinity();
  const int lsb = std::max(e - 23, -149);
  const int shift = lsb - exponent;
  if (shift <= 0) {
    return sign * std::ldexp(static_cast<float>(static_cast<std::uint64_t>(magnitude << -shift)), lsb);
  }
  if (shift > top + 1) return sign * 0.0f;  // below half of the smallest subnormal
  const unsigned __int128 one = 1;
  const unsigned __int128 kept = shift == 128 ? 0 : magnitude >> shift;
  const unsigned __int128 dropped = shift == 128 ? magnitude : magnitude & ((one << shift) - 1);
  const unsigned __int128 half = one << (shift - 1);
  const bool round_up =
      dropped > half || (dropped == half && (sticky || (kept & 1) != 0));
  const auto significand = static_cast<std::uint64_t>(kept + (round_up ? 1 : 0));
  return sign * std::ldexp(static_cast<float>(significand), lsb);
}

float round_to_fp32(__int128 value, int exponent) {
  const bool negative = value < 0;
  const auto magnitude = negative ? -static_cast<unsigned __int128>(value)
                                  : static_cast<unsigned __int128>(value);
  return round_to_fp32(magnitude, exponent, negative);
}

namespace {

// A fixed-point accumulator wide enough to hold any sum of block partials exactly
// (a Kulisch accumulator). Partials reach from 2^-330 (two FP32-subnormal scales times
// E5M2 subnormals) to below 2^360; 12 limbs of 64 bits cover [2^-384, 2^384).
class ExactSum {
 public:
  void add(__int128 value, int exponent) {
    if (value == 0) return;
    const int bit = exponent - kLowExponent;
    const int limb = bit / 64, offset = bit % 64;
    // Spread the sign-extended 128-bit value, shifted by `offset`, over three limbs.
    const auto v = static_cast<unsigned __int128>(value);
    const std::uint64_t fill = value < 0 ? ~std::uint64_t{0} : 0;
    std::array<std::uint64_t, 3> parts = {
        static_cast<std::uint64_t>(v << offset),
        static_cast<std::uint64_t>((v << offset) >> 64) ,
        offset ? static_cast<std::uint64_t>(v >> (128 - offset)) | (fill << offset) : fill};
    std::uint64_t carry = 0;
    for (int i = limb; i < kLimbs; ++i) {
      const std::uint64_t addend = i - limb < 3 ? parts[i - limb] : fill;
      const unsigned __int128 s = static_cast<unsigned __int128>(limbs_[i]) + addend + carry;
      limbs_[i] = static_cast<std::uint64_t>(s);
      carry = static_cast<std::uint64_t>(s >> 64);
    }
  }

  float round() const {
    std::array<std::uint64_t, kLimbs> m = limbs_;
    const bool negative = m[kLimbs - 1] >> 63;
    if (negative) {  // two's complement negate
      std::uint64_t carry = 1;
      for (auto& limb : m) {
        const unsigned __int128 s = static_cast<unsigned __int128>(~limb) + carry;
        limb = static_cast<std::uint64_t>(s);
        carry = static_cast<std::uint64_t>(s >> 64);
      }
    }
    int top = kLimbs - 1;
    while (top > 0 && m[top] == 0) --top;
    if (top == 0 && m[0] == 0) return 0.0f;
    // Take the two limbs at the top (128 bits) and fold everything below into the sticky bit.
    const int low = std::max(top - 1, 0);
    const unsigned __int128 window =
        (static_cast<unsigned __int128>(m[top]) << (top > low ? 64 : 0)) | (top > low ? m[low] : 0);
    bool sticky = false;
    for (int i = 0; i < low; ++i) sticky = sticky || m[i] != 0;
    return round_to_fp32(window, kLowExponent + 64 * low, negative, sticky);
  }

 private:
  static constexpr int kLimbs = 12;
  static constexpr int kLowExponent = -384;
  std::array<std::uint64_t, kLimbs> limbs_{};
};

template <typename Sum, typename Int>
Sum integer_block_sum(const Int* a, const Int* b, int n) {
  Sum s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<Sum>(a[i]) * static_cast<Sum>(b[i]);
  return s;
}

// The contract's loop over K-blocks, for one sum type and one integer storage.
// `trace`, when given, receives the FP32 accumulator after every block (what a DPU holds).
template <typename Sum, typename Int>
float dot_rows(const Int* a, const ExactScale* sa, const Int* b, const ExactScale* sb,
               std::int64_t blocks, int block, int exponent, float ga, float gb,
               Accumulator accumulator, float* trace = nullptr) {
  float acc = 0.0f;
  ExactSum exact;
  bool nan = false;
  for (std::int64_t j = 0; j < blocks; ++j) {
    const Sum s = integer_block_sum<Sum>(a + j * block, b + j * block, block);
    if (sa[j].nan || sb[j].nan) nan = true;
    if (trace) trace[j] = nan ? std::numeric_limits<float>::quiet_NaN() : acc;
    if (nan) continue;
    // |s| < 2^75 and the scale mantissas are below 2^24 each: the product fits in 127 bits.
    const __int128 partial = static_cast<__int128>(s) * sa[j].mantissa * sb[j].mantissa;
    const int e = exponent + sa[j].exponent + sb[j].exponent;
    if (accumulator == Accumulator::kFp32) {
      acc += round_to_fp32(partial, e);
      if (trace) trace[j] = acc;
    } else {
      exact.add(partial, e);
    }
  }
  if (nan) return std::numeric_limits<float>::quiet_NaN();
  if (accumulator == Accumulator::kExact) acc = exact.round();
  return acc * ga * gb;
}

void check_pair(const ExactOperand& a, const ExactOperand& b) {
  if (a.cols() != b.cols()) {
    throw Error("dot product operands differ in length: " + std::to_string(a.cols()) + " vs " +
                std::to_string(b.cols()));
  }
  if (a.block() != b.block()) {
    throw Error("dot product operands have different block sizes: " + std::to_string(a.block()) +
                " vs " + std::to_string(b.block()));
  }
}

enum class SumKind { kInt32, kInt64, kInt128 };

SumKind sum_kind(const ExactOperand& a, const ExactOperand& b) {
  const double bound = static_cast<double>(a.max_element_integer()) *
                       static_cast<double>(b.max_element_integer()) * a.block();
  if (a.wide() || b.wide() || bound >= 0x1p62) return SumKind::kInt128;
  return bound < 0x1p31 ? SumKind::kInt32 : SumKind::kInt64;
}

float dispatch_dot(const ExactOperand& a, std::int64_t ra, const ExactOperand& b,
                   std::int64_t rb, SumKind kind, Accumulator accumulator,
                   float* trace = nullptr) {
  const int exponent = a.element_exponent() + b.element_exponent();
  const auto args = [&](auto* pa, auto* pb, auto sum) {
    using Sum = decltype(sum);
    return dot_rows<Sum>(pa, a.scales_row(ra), pb, b.scales_row(rb), a.blocks_per_row(),
                         a.block(), exponent, a.tensor_scale(), b.tensor_scale(), accumulator,
                         trace);
  };
  switch (kind) {
    case SumKind::kInt32: return args(a.narrow_row(ra), b.narrow_row(rb), std::int32_t{});
    case SumKind::kInt64: return args(a.narrow_row(ra), b.narrow_row(rb), std::int64_t{});
    case SumKind::kInt128: return args(a.wide_row(ra), b.wide_row(rb), __int128{});
  }
  return 0;
}

}  // namespace

ExactOperand::ExactOperand(const QuantizedTensor& q, int threads)
    : rows_(q.rows),
      cols_(q.cols),
      padded_(q.padded_cols()),
      blocks_(q.blocks_per_row()),
      block_(q.block),
      element_exponent_(q.format->element_exponent()),
      max_integer_(q.format->max_element_integer()),
      tensor_scale_(q.tensor_scale) {
  if (!q.format->supports_dot()) {
    throw Error("format '" + q.format->info().name + "' is not supported by the golden dot");
  }
  const bool narrow = max_integer_ <= std::numeric_limits<std::int32_t>::max();
  const auto count = static_cast<size_t>(rows_ * padded_);
  if (narrow) {
    narrow_.resize(count);
  } else {
    wide_.resize(count);
  }
  scales_.resize(static_cast<size_t>(rows_ * blocks_));
  // A narrow row goes through one row of int64 (what exact_row writes), not a whole int64 copy
  // of the tensor: decoding costs about as much as the GEMM's multiply-adds at M = 64.
  parallel_for(rows_, threads, [&](std::int64_t r) {
    ExactScale* scales = scales_.data() + r * blocks_;
    if (!narrow) {
      q.format->exact_row(q, r, {wide_.data() + r * padded_, scales});
      return;
    }
    thread_local std::vector<std::int64_t> row;
    row.resize(static_cast<size_t>(padded_));
    q.format->exact_row(q, r, {row.data(), scales});
    std::transform(row.begin(), row.end(), narrow_.begin() + r * padded_,
                   [](std::int64_t v) { return static_cast<std::int32_t>(v); });
  });
}

void ExactOperand::widen() {
  if (wide()) return;
  wide_.assign(narrow_.begin(), narrow_.end());
}

namespace {

float checked_dot(const ExactOperand& a, std::int64_t row_a, const ExactOperand& b,
                  std::int64_t row_b, Accumulator accumulator, float* trace) {
  check_pair(a, b);
  const SumKind kind = sum_kind(a, b);
  if (kind == SumKind::kInt128 && (!a.wide() || !b.wide())) {
    ExactOperand wa = a, wb = b;
    wa.widen();
    wb.widen();
    return dispatch_dot(wa, row_a, wb, row_b, kind, accumulator, trace);
  }
  return dispatch_dot(a, row_a, b, row_b, kind, accumulator, trace);
}

}  // namespace

float golden_dot(const ExactOperand& a, std::int64_t row_a, const ExactOperand& b,
                 std::int64_t row_b, Accumulator accumulator) {
  return checked_dot(a, row_a, b, row_b, accumulator, nullptr);
}

std::vector<float> golden_accumulator_trace(const ExactOperand& a, std::int64_t row_a,
                                            const ExactOperand& b, std::int64_t row_b) {
  std::vector<float> trace(static_cast<size_t>(a.blocks_per_row()));
  checked_dot(a, row_a, b, row_b, Accumulator::kFp32, trace.data());
  return trace;
}

float golden_dot(const QuantizedTensor& a, std::int64_t row_a, const QuantizedTensor& b,
                 std::int64_t row_b, Accumulator accumulator) {
  return golden_dot(ExactOperand(a), row_a, ExactOperand(b), row_b, accumulator);
}

void prepare_dot_pair(ExactOperand& a, ExactOperand& b) {
  check_pair(a, b);
  if (sum_kind(a, b) == SumKind::kInt128) {
    a.widen();
    b.widen();
  }
}

namespace gemm {

Matrix scalar_golden_gemm(const ExactOperand& a, const ExactOperand& b, Accumulator accumulator,
                          int threads) {
  check_pair(a, b);
  const SumKind kind = sum_kind(a, b);
  if (kind == SumKind::kInt128 && (!a.wide() || !b.wide())) {
    ExactOperand wa = a, wb = b;
    prepare_dot_pair(wa, wb);
    return scalar_golden_gemm(wa, wb, accumulator, threads);
  }
  Matrix c(a.rows(), b.rows());
  // Rows of C are handed out one at a time; each element is computed by one thread in K order,
  // so the result is the same for every thread count.
  parallel_for(c.rows, threads, [&](std::int64_t i) {
    float* out = c.row(i);
    for (std::int64_t j = 0; j < c.cols; ++j) out[j] = dispatch_dot(a, i, b, j, kind, accumulator);
  });
  return c;
}

}  // namespace gemm

Matrix golden_gemm(const ExactOperand& a, const ExactOperand& b, Accumulator accumulator,
                   int threads) {
  check_pair(a, b);
  if (accumulator == Accumulator::kFp32) {
    if (auto c = gemm::vector_golden_gemm(a, b, threads)) return std::move(*c);
  }
  return gemm::scalar_golden_gemm(a, b, accumulator, threads);
}

Matrix golden_gemm(const QuantizedTensor& a, const QuantizedTensor& b, Accumulator accumulator,
                   int threads) {
  // Pairs the vector path cannot take, malformed ones included, go to the scalar path, whose
  // checks report the errors.
  if (accumulator == Accumulator::kFp32 && a.format->supports_dot() &&
      b.format->supports_dot() && a.cols == b.cols && a.block == b.block) {
    if (auto c = gemm::vector_golden_gemm(a, b, threads)) return std::move(*c);
  }
  return gemm::scalar_golden_gemm(ExactOperand(a, threads), ExactOperand(b, threads), accumulator,
                                  threads);
}

}  // namespace nibble

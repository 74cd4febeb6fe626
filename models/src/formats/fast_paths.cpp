// The vector kernels of fast_paths.h, compiled once per Highway target (see simd.h).
//
// Exactness, in brief (the comments at each step say more):
//  - Float elements: an FP32 value a >= 2^emin of the element is rounded to m mantissa bits
//    on its bit pattern (add half an ulp, minus one plus the kept LSB for ties to even; a
//    carry moves into the exponent as it should), which is the engine's round(a / step) in
//    the binade of a. Below 2^emin the element's quantum is 2^(emin - m); a * 2^(m - emin) is
//    exact (a power-of-two scale-up of a value below 2^emin cannot overflow) and is rounded
//    to an integer by the FPU (Round: ties to even; ties away via the exact fraction
//    y - trunc(y)). BF16 shares FP32's emin, so the bit rule also serves FP32's subnormal
//    patterns there. Codes are monotonic in value, so saturation is a min with the largest
//    finite code.
//  - Float decode: a normal code's fields moved to FP32's positions with the exponent
//    rebiased in the integers; a subnormal code is mantissa * 2^(emin - m), both exact.
//  - Integer elements: the same integer rounding of the float itself; round_to_int rounds
//    the exactly widened double, which gives the same integer.
//  - Scaling multiplies and divides are the IEEE operations the scalar code performs, in the
//    same order, so they round identically.
#include "formats/fast_paths.h"

#include <cstring>
#include <type_traits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "formats/fast_paths.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace nibble {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr std::uint32_t kAbsMask = 0x7FFFFFFFu;
constexpr std::uint32_t kInfBits = 0x7F800000u;
constexpr std::uint32_t kQuietNaNBits = 0x7FC00000u;  // what decode()'s NaN becomes as float

// Calls body(d) with the widest float tag whose lane count divides `block`, so that a block
// is a whole number of vectors (1 lane for odd block sizes).
template <typename Body>
HWY_INLINE void with_block_tag(int block, const Body& body) {
  const hn::ScalableTag<float> full;
  const hn::CappedTag<float, 8> eight;
  const hn::CappedTag<float, 4> four;
  const hn::CappedTag<float, 1> one;
  if (block % static_cast<int>(hn::Lanes(full)) == 0) return body(full);
  if (block % static_cast<int>(hn::Lanes(eight)) == 0) return body(eight);
  if (block % static_cast<int>(hn::Lanes(four)) == 0) return body(four);
  body(one);
}

// The DRAM streaming pass is latency-bound: ask for the data 4 KiB ahead.
constexpr std::int64_t kPrefetchAhead = 1024;

void block_amax_bits(const float* x, std::int64_t blocks, int block, std::uint32_t* amax) {
  with_block_tag(block, [&](auto d) {
    const hn::RebindToSigned<decltype(d)> di;
    const auto abs_mask = hn::Set(di, static_cast<std::int32_t>(kAbsMask));
    const auto step = static_cast<int>(hn::Lanes(d));
    for (std::int64_t j = 0; j < blocks; ++j) {
      const float* v = x + j * block;
      auto best = hn::Zero(di);
      for (int i = 0; i < block; i += step) {
        hwy::Prefetch(v + i + kPrefetchAhead);
        best = hn::Max(best, hn::And(hn::BitCast(di, hn::LoadU(d, v + i)), abs_mask));
      }
      amax[j] = static_cast<std::uint32_t>(hn::GetLane(hn::MaxOfLanes(di, best)));
    }
  });
}

void block_side_max_bits(const float* x, std::int64_t blocks, int block, std::uint32_t* pos,
                         std::uint32_t* neg) {
  with_block_tag(block, [&](auto d) {
    const hn::RebindToSigned<decltype(d)> di;
    // As signed integers the bits of a negative float are negative, so a max that starts at
    // 0 ignores them; flipping the sign bit turns the negative values into the positive ones.
    const auto sign = hn::Set(di, static_cast<std::int32_t>(0x80000000u));
    const auto step = static_cast<int>(hn::Lanes(d));
    for (std::int64_t j = 0; j < blocks; ++j) {
      const float* v = x + j * block;
      auto best_pos = hn::Zero(di), best_neg = hn::Zero(di);
      for (int i = 0; i < block; i += step) {
        hwy::Prefetch(v + i + kPrefetchAhead);
        const auto b = hn::BitCast(di, hn::LoadU(d, v + i));
        best_pos = hn::Max(best_pos, b);
        best_neg = hn::Max(best_neg, hn::Xor(b, sign));
      }
      pos[j] = static_cast<std::uint32_t>(hn::GetLane(hn::MaxOfLanes(di, best_pos)));
      neg[j] = static_cast<std::uint32_t>(hn::GetLane(hn::MaxOfLanes(di, best_neg)));
    }
  });
}

std::uint32_t finite_amax_bits(const float* x, std::int64_t n) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const auto abs_mask = hn::Set(di, static_cast<std::int32_t>(kAbsMask));
  const auto inf = hn::Set(di, static_cast<std::int32_t>(kInfBits));
  const auto step = static_cast<std::int64_t>(hn::Lanes(d));
  // Four accumulators hide the latency of the max chain.
  auto m0 = hn::Zero(di), m1 = hn::Zero(di), m2 = hn::Zero(di), m3 = hn::Zero(di);
  const auto finite = [&](const float* p) {
    hwy::Prefetch(p + kPrefetchAhead);
    const auto b = hn::And(hn::BitCast(di, hn::LoadU(d, p)), abs_mask);
    return hn::IfThenElseZero(hn::Lt(b, inf), b);
  };
  std::int64_t i = 0;
  for (; i + 4 * step <= n; i += 4 * step) {
    m0 = hn::Max(m0, finite(x + i));
    m1 = hn::Max(m1, finite(x + i + step));
    m2 = hn::Max(m2, finite(x + i + 2 * step));
    m3 = hn::Max(m3, finite(x + i + 3 * step));
  }
  auto best = static_cast<std::uint32_t>(
      hn::GetLane(hn::MaxOfLanes(di, hn::Max(hn::Max(m0, m1), hn::Max(m2, m3)))));
  for (; i < n; ++i) {
    const std::uint32_t b = float_bits(x[i]) & kAbsMask;
    if (b < kInfBits && b > best) best = b;
  }
  return best;
}

// ---- element encode -------------------------------------------------------------------------

// Constants of one element rule, derived once per call.
struct Encoder {
  bool integer;
  bool away;
  bool is_signed;
  // Float specs.
  int round_shift;             // 23 - m: FP32 mantissa bits dropped
  std::uint32_t half;          // half an ulp at that position (minus one for ties to even)
  std::uint32_t rebias;        // (127 - bias) << m: FP32 exponent field to the element's
  std::uint32_t normal_floor;  // bits of 2^emin; 0 where emin is FP32's own (BF16)
  float to_quanta;             // 2^(m - emin): a value below 2^emin in units of the quantum
  std::int32_t max_code;
  std::int32_t inf_result;  // code of +Inf (Inf, else NaN, else the largest finite)
  std::int32_t nan_result;  // code of NaN (0 where the spec has none)
  std::int32_t sign_bit;
  // Integer specs.
  float int_lo, int_hi;
  std::int32_t mask;

  Encoder(const ElementSpec& s, Rounding rounding, std::int32_t lo, std::int32_t hi)
      : integer(s.is_integer), away(rounding == Rounding::kNearestAway), is_signed(s.is_signed) {
    round_shift = 23 - s.man_bits;
    half = away ? 1u << (round_shift - 1) : (1u << (round_shift - 1)) - 1;
    rebias = static_cast<std::uint32_t>(127 - s.bias) << s.man_bits;
    normal_floor = s.emin() == -126 ? 0 : float_bits(exp2_int(s.emin()));
    to_quanta = s.emin() == -126 ? 1.0f : exp2_int(s.man_bits - s.emin());
    max_code = static_cast<std::int32_t>(s.max_code());
    inf_result = static_cast<std::int32_t>(s.has_inf()   ? s.inf_code()
                                           : s.has_nan() ? s.nan_code()
                                                         : s.max_code());
    nan_result = static_cast<std::int32_t>(s.has_nan() ? s.nan_code() : 0);
    sign_bit = static_cast<std::int32_t>(s.sign_bit());
    int_lo = static_cast<float>(lo);
    int_hi = static_cast<float>(hi);
    mask = static_cast<std::int32_t>(s.code_count() - 1);
  }
};

// Round to an integer, ties away from zero: the fraction y - trunc(y) is exact.
template <class D, class V>
HWY_INLINE V round_away(D d, V y) {
  const V t = hn::Trunc(y);
  const auto tie_or_more = hn::Ge(hn::Abs(hn::Sub(y, t)), hn::Set(d, 0.5f));
  return hn::Add(t, hn::IfThenElseZero(tie_or_more, hn::CopySign(hn::Set(d, 1.0f), y)));
}

template <bool kAway, class D, class V>
HWY_INLINE V round_integer(D d, V y) {
  if constexpr (kAway) return round_away(d, y);
  return hn::Round(y);
}

// Integer level of v (round_to_int without the NaN rule, which the caller applies).
template <bool kAway, class D, class V>
HWY_INLINE auto integer_level(D d, const Encoder& e, V v) {
  const hn::RebindToSigned<D> di;
  const V r =
      hn::Min(hn::Max(round_integer<kAway>(d, v), hn::Set(d, e.int_lo)), hn::Set(d, e.int_hi));
  return hn::ConvertTo(di, hn::IfThenZeroElse(hn::IsNaN(v), r));  // NaN converts to 0
}

// encode(spec, v) for a float spec, as int32 codes.
template <bool kAway, class D, class V>
HWY_INLINE auto float_code(D d, const Encoder& e, V v) {
  const hn::RebindToSigned<D> di;
  const hn::RebindToUnsigned<D> du;
  const auto bits = hn::BitCast(du, v);
  const auto a = hn::And(bits, hn::Set(du, kAbsMask));
  // At or above 2^emin: round the FP32 pattern at the element's mantissa width.
  auto rounded = hn::Add(a, hn::Set(du, e.half));
  if constexpr (!kAway)
    rounded = hn::Add(rounded, hn::And(hn::ShiftRightSame(a, e.round_shift), hn::Set(du, 1)));
  const auto normal = hn::Sub(hn::ShiftRightSame(rounded, e.round_shift), hn::Set(du, e.rebias));
  // Below 2^emin: the count of quanta, rounded by the FPU (other lanes get 0, so that no
  // NaN or huge value is converted).
  const auto ai = hn::BitCast(di, a);  // < 2^31, so signed compares order it
  const auto small = hn::Lt(ai, hn::Set(di, static_cast<std::int32_t>(e.normal_floor)));
  const auto quanta = round_integer<kAway>(
      d, hn::IfThenElseZero(hn::RebindMask(d, small),
                            hn::Mul(hn::BitCast(d, a), hn::Set(d, e.to_quanta))));
  auto code = hn::IfThenElse(small, hn::ConvertTo(di, quanta), hn::BitCast(di, normal));
  code = hn::Min(code, hn::Set(di, e.max_code));
  code = hn::IfThenElse(hn::Eq(ai, hn::Set(di, static_cast<std::int32_t>(kInfBits))),
                        hn::Set(di, e.inf_result), code);
  const auto negative = hn::Lt(hn::BitCast(di, bits), hn::Zero(di));
  code = e.is_signed ? hn::Or(code, hn::IfThenElseZero(negative, hn::Set(di, e.sign_bit)))
                     : hn::IfThenZeroElse(negative, code);  // unsigned specs clamp at 0
  return hn::IfThenElse(hn::Gt(ai, hn::Set(di, static_cast<std::int32_t>(kInfBits))),
                        hn::Set(di, e.nan_result), code);
}

template <bool kAway, class D, class V>
HWY_INLINE auto element_code(D d, const Encoder& e, V v) {
  if (e.integer) {
    return hn::And(integer_level<kAway>(d, e, v), hn::Set(hn::RebindToSigned<D>(), e.mask));
  }
  return float_code<kAway>(d, e, v);
}

// Calls body(std::bool_constant<away>) so that the rounding rule is fixed at compile time.
template <typename Body>
HWY_INLINE void with_rounding(bool away, const Body& body) {
  if (away) return body(std::true_type());
  body(std::false_type());
}

void encode_array(const ElementSpec& s, Rounding rounding, const float* x, std::int64_t n,
                  std::uint32_t* codes) {
  const Encoder e(s, rounding, -static_cast<std::int32_t>(s.sign_bit()),
                  static_cast<std::int32_t>(s.magnitude_mask()));
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::RebindToUnsigned<decltype(d1)> du1;
  const auto step = static_cast<std::int64_t>(hn::Lanes(d));
  with_rounding(e.away, [&](auto away) {
    std::int64_t i = 0;
    for (; i + step <= n; i += step) {
      hn::StoreU(hn::BitCast(du, element_code<decltype(away)::value>(d, e, hn::LoadU(d, x + i))),
                 du, codes + i);
    }
    for (; i < n; ++i) {
      hn::StoreU(hn::BitCast(du1, element_code<decltype(away)::value>(d1, e, hn::LoadU(d1, x + i))),
                 du1, codes + i);
    }
  });
}

// Packs n one-byte codes into the stream at element `first`: 4-bit pairs in vectors, 6-bit
// quads as three bytes, 8-bit as they are, other widths through pack_codes.
void pack(const std::uint8_t* codes, std::int64_t n, int bits, std::uint8_t* stream,
          std::int64_t first) {
  if (bits == 8) {
    if (codes != stream + first) std::memcpy(stream + first, codes, static_cast<size_t>(n));
    return;
  }
  std::int64_t i = 0;
#if HWY_TARGET != HWY_SCALAR  // whose vectors cannot hold two codes
  if (bits == 4 && first % 2 == 0) {
    const hn::ScalableTag<std::uint16_t> d16;
    const hn::Repartition<std::uint8_t, decltype(d16)> d8;
    const hn::Rebind<std::uint8_t, decltype(d16)> half8;
    const hn::RebindToSigned<decltype(d16)> di16;
    std::uint8_t* out = stream + first / 2;
    const auto step = static_cast<std::int64_t>(hn::Lanes(d8));
    for (; i + step <= n; i += step) {
      // Little-endian: each 16-bit lane holds codes 2k (low byte) and 2k + 1 (high byte).
      const auto pair = hn::BitCast(d16, hn::LoadU(d8, codes + i));
      const auto byte = hn::Or(hn::And(pair, hn::Set(d16, 0x0F)),
                               hn::And(hn::ShiftRight<4>(pair), hn::Set(d16, 0xF0)));
      hn::StoreU(hn::DemoteTo(half8, hn::BitCast(di16, byte)), half8, out + i / 2);
    }
  }
#endif
  if (bits == 6 && first % 4 == 0) {
    std::uint8_t* out = stream + first / 4 * 3;
#if HWY_TARGET != HWY_SCALAR
    // Sixteen codes become four 24-bit words in 32-bit lanes, whose low three bytes a byte
    // shuffle gathers into 12 bytes. The 16-byte store's last four bytes are overwritten by
    // the next group, so the loop stops while at least one more group follows.
    const hn::Full128<std::uint8_t> d8;
    const hn::Full128<std::uint32_t> d32;
    alignas(16) static constexpr std::uint8_t kGather[16] = {0,  1,  2,  4,  5, 6, 8, 9,
                                                             10, 12, 13, 14, 0, 0, 0, 0};
    const auto gather = hn::Load(d8, kGather);
    for (; i + 32 <= n; i += 16) {
      const auto v = hn::BitCast(d32, hn::LoadU(d8, codes + i));
      const auto w = hn::Or(hn::Or(hn::And(v, hn::Set(d32, 0x3Fu)),
                                   hn::And(hn::ShiftRight<2>(v), hn::Set(d32, 0xFC0u))),
                            hn::Or(hn::And(hn::ShiftRight<4>(v), hn::Set(d32, 0x3F000u)),
                                   hn::And(hn::ShiftRight<6>(v), hn::Set(d32, 0xFC0000u))));
      hn::StoreU(hn::TableLookupBytes(hn::BitCast(d8, w), gather), d8, out + i / 4 * 3);
    }
#endif
    for (; i + 4 <= n; i += 4) {
      const std::uint32_t w = codes[i] | (codes[i + 1] << 6) | (codes[i + 2] << 12) |
                              (static_cast<std::uint32_t>(codes[i + 3]) << 18);
      out[i / 4 * 3] = static_cast<std::uint8_t>(w);
      out[i / 4 * 3 + 1] = static_cast<std::uint8_t>(w >> 8);
      out[i / 4 * 3 + 2] = static_cast<std::uint8_t>(w >> 16);
    }
  }
  if (i < n) pack_codes(stream, first + i, codes + i, static_cast<int>(n - i), bits);
}

// The inverse of pack: n codes from element `first`, one byte each (8-bit streams are read
// in place).
const std::uint8_t* unpack(const std::uint8_t* stream, std::int64_t first, std::int64_t n, int bits,
                           std::uint8_t* codes) {
  if (bits == 8) return stream + first;
  std::int64_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  if (bits == 4 && first % 2 == 0) {
    const hn::ScalableTag<std::uint16_t> d16;
    const hn::Repartition<std::uint8_t, decltype(d16)> d8;
    const hn::Rebind<std::uint8_t, decltype(d16)> half8;
    const std::uint8_t* in = stream + first / 2;
    const auto step = static_cast<std::int64_t>(hn::Lanes(d8));
    for (; i + step <= n; i += step) {
      const auto byte = hn::PromoteTo(d16, hn::LoadU(half8, in + i / 2));
      const auto pair = hn::Or(hn::And(byte, hn::Set(d16, 0x0F)),
                               hn::ShiftLeft<4>(hn::And(byte, hn::Set(d16, 0xF0))));
      hn::StoreU(hn::BitCast(d8, pair), d8, codes + i);
    }
  }
#endif
  if (bits == 6 && first % 4 == 0) {
    const std::uint8_t* in = stream + first / 4 * 3;
#if HWY_TARGET != HWY_SCALAR
    // The inverse shuffle: 12 bytes spread to four 32-bit lanes, each split into its four
    // codes. The 16-byte load reads 4 bytes ahead, so the loop stops 8 codes early.
    const hn::Full128<std::uint8_t> d8;
    const hn::Full128<std::uint32_t> d32;
    alignas(16) static constexpr std::uint8_t kSpread[16] = {0, 1, 2, 2, 3, 4,  5,  5,
                                                             6, 7, 8, 8, 9, 10, 11, 11};
    const auto spread = hn::Load(d8, kSpread);
    for (; i + 24 <= n; i += 16) {
      const auto w = hn::BitCast(d32, hn::TableLookupBytes(hn::LoadU(d8, in + i / 4 * 3), spread));
      const auto c = hn::Or(hn::Or(hn::And(w, hn::Set(d32, 0x3Fu)),
                                   hn::And(hn::ShiftLeft<2>(w), hn::Set(d32, 0x3F00u))),
                            hn::Or(hn::And(hn::ShiftLeft<4>(w), hn::Set(d32, 0x3F0000u)),
                                   hn::And(hn::ShiftLeft<6>(w), hn::Set(d32, 0x3F000000u))));
      hn::StoreU(hn::BitCast(d8, c), d8, codes + i);
    }
#endif
    for (; i + 4 <= n; i += 4) {
      const std::uint32_t w = in[i / 4 * 3] | (in[i / 4 * 3 + 1] << 8) |
                              (static_cast<std::uint32_t>(in[i / 4 * 3 + 2]) << 16);
      for (int k = 0; k < 4; ++k) codes[i + k] = static_cast<std::uint8_t>((w >> (6 * k)) & 0x3F);
    }
  }
  for (; i < n; ++i) codes[i] = static_cast<std::uint8_t>(unpack_code(stream, first + i, bits));
  return codes;
}

// Lanes whose sign bit is set (-0 and negative NaN included, as std::signbit). Not
// IfNegativeThenElse, which Highway 1.0.3 gets wrong for floats on SSSE3.
template <class D, class V>
HWY_INLINE auto sign_bit_set(D d, V x) {
  const hn::RebindToSigned<D> di;
  return hn::RebindMask(d, hn::Lt(hn::BitCast(di, x), hn::Zero(di)));
}

// The block loop with the rule's choices fixed at compile time, so that the inner loop has no
// branches.
template <ScaleOp kOp, bool kInteger, bool kAway, bool kZeroPoint>
void encode_block_loop(const Encoder& e, float unit_value, const EncodeRun& run,
                       std::uint8_t* codes) {
  const int block = run.block;
  with_block_tag(block, [&](auto d) {
    using D = decltype(d);
    const hn::RebindToSigned<D> di;
    const hn::Rebind<std::uint8_t, D> d8;
    const auto step = static_cast<int>(hn::Lanes(d));
    const auto unit = hn::Set(d, unit_value);
    const auto levels = hn::Set(di, e.mask);
    for (std::int64_t j = 0; j < run.blocks; ++j) {
      std::uint8_t* out = codes + j * block;
      if (run.skip[j]) {
        std::memset(out, 0, static_cast<size_t>(block));
        continue;
      }
      const float* v = run.x + j * block;
      const auto factor = hn::Set(d, run.factor[j]);
      const auto factor_neg = hn::Set(d, kOp == ScaleOp::kDivideBySign ? run.factor_neg[j] : 0.0f);
      const auto zero = hn::Set(di, kZeroPoint ? run.zero_point[j] : 0);
      for (int i = 0; i < block; i += step) {
        // The next run's values are requested now, so that DRAM works while this run
        // computes (software pipelining; its statistics pass then reads from cache).
        hwy::Prefetch(v + i + kRunElements);
        const auto x = hn::LoadU(d, v + i);
        auto scaled = kOp == ScaleOp::kMultiply ? hn::Mul(x, factor)
                      : kOp == ScaleOp::kDivide
                          ? hn::Div(x, factor)
                          : hn::Div(x, hn::IfThenElse(sign_bit_set(d, x), factor_neg, factor));
        if constexpr (kInteger) scaled = hn::Mul(scaled, unit);
        hn::Vec<decltype(di)> code;
        if constexpr (kInteger) {
          code = integer_level<kAway>(d, e, scaled);
        } else {
          code = float_code<kAway>(d, e, scaled);
        }
        code = kZeroPoint ? hn::Min(hn::Max(hn::Add(code, zero), hn::Zero(di)), levels)
                          : hn::And(code, levels);
        hn::StoreU(hn::DemoteTo(d8, code), d8, out + i);
      }
    }
  });
}

template <ScaleOp kOp>
void encode_blocks_with(const Encoder& e, const ElementRule& rule, const EncodeRun& run,
                        std::uint8_t* codes) {
  with_rounding(e.away, [&](auto away) {
    if (!e.integer)
      return encode_block_loop<kOp, false, decltype(away)::value, false>(e, 1.0f, run, codes);
    if (run.zero_point)
      return encode_block_loop<kOp, true, decltype(away)::value, true>(e, rule.unit, run, codes);
    encode_block_loop<kOp, true, decltype(away)::value, false>(e, rule.unit, run, codes);
  });
}

void encode_blocks(const ElementRule& rule, const EncodeRun& run) {
  const Encoder e(*rule.spec, rule.rounding, rule.int_lo, rule.int_hi);
  std::uint8_t* codes = rule.spec->bits == 8 ? run.stream + run.first : run.scratch;
  switch (rule.op) {
    case ScaleOp::kMultiply:
      encode_blocks_with<ScaleOp::kMultiply>(e, rule, run, codes);
      break;
    case ScaleOp::kDivide:
      encode_blocks_with<ScaleOp::kDivide>(e, rule, run, codes);
      break;
    case ScaleOp::kDivideBySign:
      encode_blocks_with<ScaleOp::kDivideBySign>(e, rule, run, codes);
      break;
  }
  pack(codes, run.blocks * run.block, rule.spec->bits, run.stream, run.first);
}

// ---- decode ---------------------------------------------------------------------------------

struct Decoder {
  bool integer;
  int shift;       // float specs: 23 - m; integer specs: 32 - bits
  int sign_shift;  // 32 - bits: the code's sign bit to bit 31
  std::uint32_t magnitude_mask, sign_bit;
  std::uint32_t rebias;           // (127 - bias) << 23
  std::uint32_t subnormal_floor;  // the smallest normal code (0: none to treat apart)
  float quantum;                  // 2^(emin - m)
  std::uint32_t nan_magnitude;    // kAllOnesNaN: the NaN magnitude; else above every code
  std::uint32_t special_floor;    // kIeee: the all-ones exponent; else above every code
  std::uint32_t inf_magnitude;

  explicit Decoder(const ElementSpec& s)
      : integer(s.is_integer),
        shift(s.is_integer ? 32 - s.bits : 23 - s.man_bits),
        sign_shift(32 - s.bits),
        magnitude_mask(s.magnitude_mask()),
        sign_bit(s.sign_bit()) {
    rebias = static_cast<std::uint32_t>(127 - s.bias) << 23;
    subnormal_floor = s.is_integer || s.emin() == -126 ? 0 : 1u << s.man_bits;
    quantum = exp2_int(s.quantum_exponent());
    const std::uint32_t above = s.code_count();
    nan_magnitude = s.non_finite == NonFinite::kAllOnesNaN ? s.magnitude_mask() : above;
    special_floor = s.non_finite == NonFinite::kIeee ? s.inf_code() : above;
    inf_magnitude = s.non_finite == NonFinite::kIeee ? s.inf_code() : above;
  }
};

// decode(spec, code) as float for u32 codes.
template <class D, class VU>
HWY_INLINE auto decode_code(D d, const Decoder& c, VU code) {
  const hn::RebindToSigned<D> di;
  const hn::RebindToUnsigned<D> du;
  if (c.integer) {  // sign-extend from the code width
    return hn::ConvertTo(
        d, hn::ShiftRightSame(hn::BitCast(di, hn::ShiftLeftSame(code, c.shift)), c.shift));
  }
  // Normal codes: the fields moved to FP32's positions with the exponent rebiased in the
  // integers. Subnormal codes: mantissa * 2^(emin - m), both factors and the product exact
  // (and all normal, so no denormal assist). BF16 shares FP32's emin, so its subnormal fields
  // already are FP32's and the first form serves every code.
  const auto magnitude = hn::And(code, hn::Set(du, c.magnitude_mask));
  auto value =
      hn::BitCast(d, hn::Add(hn::ShiftLeftSame(magnitude, c.shift), hn::Set(du, c.rebias)));
  if (c.subnormal_floor) {
    const auto subnormal = hn::Lt(magnitude, hn::Set(du, c.subnormal_floor));
    value = hn::IfThenElse(
        hn::RebindMask(d, subnormal),
        hn::Mul(hn::ConvertTo(d, hn::BitCast(di, magnitude)), hn::Set(d, c.quantum)), value);
  }
  value = hn::IfThenElse(hn::RebindMask(d, hn::Eq(magnitude, hn::Set(du, c.inf_magnitude))),
                         hn::Set(d, bits_float(kInfBits)), value);
  value = hn::Or(value, hn::BitCast(d, hn::ShiftLeftSame(hn::And(code, hn::Set(du, c.sign_bit)),
                                                         c.sign_shift)));
  const auto nan =
      hn::Or(hn::RebindMask(di, hn::Eq(magnitude, hn::Set(du, c.nan_magnitude))),
             hn::Gt(hn::BitCast(di, magnitude), hn::BitCast(di, hn::Set(du, c.special_floor))));
  return hn::IfThenElse(hn::RebindMask(d, nan), hn::Set(d, bits_float(kQuietNaNBits)), value);
}

void decode_array(const ElementSpec& s, const std::uint32_t* codes, std::int64_t n, float* out) {
  const Decoder c(s);
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::RebindToUnsigned<decltype(d1)> du1;
  const auto step = static_cast<std::int64_t>(hn::Lanes(d));
  const auto mask = s.code_count() - 1;
  std::int64_t i = 0;
  for (; i + step <= n; i += step) {
    hn::StoreU(decode_code(d, c, hn::And(hn::LoadU(du, codes + i), hn::Set(du, mask))), d, out + i);
  }
  for (; i < n; ++i) {
    hn::StoreU(decode_code(d1, c, hn::And(hn::LoadU(du1, codes + i), hn::Set(du1, mask))), d1,
               out + i);
  }
}

// The block loop with the run's choices fixed at compile time (see encode_block_loop).
template <bool kZeroPoint, bool kBySign, bool kTensorScale>
void decode_block_loop(const Decoder& c, float unit_value, float tensor_scale,
                       const std::uint8_t* codes, const DecodeRun& run) {
  const int block = run.block;
  with_block_tag(block, [&](auto d) {
    using D = decltype(d);
    const hn::RebindToSigned<D> di;
    const hn::RebindToUnsigned<D> du;
    const hn::Rebind<std::uint8_t, D> d8;
    const auto step = static_cast<int>(hn::Lanes(d));
    const auto unit = hn::Set(d, unit_value);
    const auto g = hn::Set(d, tensor_scale);
    const auto sign_bit = hn::Set(du, c.sign_bit);
    for (std::int64_t j = 0; j < run.blocks; ++j) {
      const auto factor = hn::Set(d, run.factor[j]);
      const auto factor_neg = hn::Set(d, kBySign ? run.factor_neg[j] : 0.0f);
      const auto zero = hn::Set(di, kZeroPoint ? run.zero_point[j] : 0);
      float* out = run.out + j * block;
      for (int i = 0; i < block; i += step) {
        const auto code = hn::PromoteTo(du, hn::LoadU(d8, codes + j * block + i));
        const auto element = kZeroPoint ? hn::ConvertTo(d, hn::Sub(hn::BitCast(di, code), zero))
                                        : decode_code(d, c, code);
        const auto negative = hn::RebindMask(d, hn::Ne(hn::And(code, sign_bit), hn::Zero(du)));
        const auto s = kBySign ? hn::IfThenElse(negative, factor_neg, factor) : factor;
        auto value = hn::Mul(hn::Mul(element, unit), s);
        if constexpr (kTensorScale) value = hn::Mul(value, g);
        hn::StoreU(value, d, out + i);
      }
    }
  });
}

// dst[i] = src[i] with non-temporal stores from the first vector-aligned element on: the
// destination lines are written without being read first.
void stream_copy(const float* src, std::int64_t n, float* dst) {
  const hn::ScalableTag<float> d;
  const auto step = static_cast<std::int64_t>(hn::Lanes(d));
  std::int64_t i = 0;
  for (; i < n && reinterpret_cast<std::uintptr_t>(dst + i) % (step * sizeof(float)) != 0; ++i) {
    dst[i] = src[i];
  }
  for (; i + step <= n; i += step) hn::Stream(hn::LoadU(d, src + i), d, dst + i);
  for (; i < n; ++i) dst[i] = src[i];
  hwy::FlushStream();
}

void decode_blocks(const ElementSpec& spec, float unit, const float* tensor_scale,
                   const DecodeRun& run) {
  const Decoder c(spec);
  const std::uint8_t* codes =
      unpack(run.stream, run.first, run.blocks * run.block, spec.bits, run.scratch);
  DecodeRun to = run;
  if (run.staging) to.out = run.staging;
  if (tensor_scale) {
    decode_block_loop<false, false, true>(c, unit, *tensor_scale, codes, to);
  } else if (run.zero_point) {
    decode_block_loop<true, false, false>(c, unit, 1.0f, codes, to);
  } else if (run.factor_neg) {
    decode_block_loop<false, true, false>(c, unit, 1.0f, codes, to);
  } else {
    decode_block_loop<false, false, false>(c, unit, 1.0f, codes, to);
  }
  if (run.staging) stream_copy(run.staging, run.blocks * run.block, run.out);
}

}  // namespace HWY_NAMESPACE
}  // namespace nibble
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace nibble {

HWY_EXPORT(block_amax_bits);
HWY_EXPORT(block_side_max_bits);
HWY_EXPORT(finite_amax_bits);
HWY_EXPORT(encode_array);
HWY_EXPORT(decode_array);
HWY_EXPORT(encode_blocks);
HWY_EXPORT(decode_blocks);

void block_amax_bits(const float* x, std::int64_t blocks, int block, std::uint32_t* amax) {
  HWY_DYNAMIC_DISPATCH(block_amax_bits)(x, blocks, block, amax);
}
void block_side_max_bits(const float* x, std::int64_t blocks, int block, std::uint32_t* pos,
                         std::uint32_t* neg) {
  HWY_DYNAMIC_DISPATCH(block_side_max_bits)(x, blocks, block, pos, neg);
}
std::uint32_t finite_amax_bits(const float* x, std::int64_t n) {
  return HWY_DYNAMIC_DISPATCH(finite_amax_bits)(x, n);
}
void encode_array(const ElementSpec& s, Rounding rounding, const float* x, std::int64_t n,
                  std::uint32_t* codes) {
  HWY_DYNAMIC_DISPATCH(encode_array)(s, rounding, x, n, codes);
}
void decode_array(const ElementSpec& s, const std::uint32_t* codes, std::int64_t n, float* out) {
  HWY_DYNAMIC_DISPATCH(decode_array)(s, codes, n, out);
}
void encode_blocks(const ElementRule& rule, const EncodeRun& run) {
  HWY_DYNAMIC_DISPATCH(encode_blocks)(rule, run);
}
void decode_blocks(const ElementSpec& spec, float unit, const float* tensor_scale,
                   const DecodeRun& run) {
  HWY_DYNAMIC_DISPATCH(decode_blocks)(spec, unit, tensor_scale, run);
}

void encode_positive_scales(const ScaleSpec& scale, const float* s, std::int64_t n,
                            std::uint32_t* codes, float* values) {
  if (!scale.spec) {  // FP32 scales are stored as they are
    for (std::int64_t i = 0; i < n; ++i) {
      codes[i] = float_bits(s[i]);
      values[i] = s[i];
    }
    return;
  }
  encode_array(*scale.spec, Rounding::kNearestEven, s, n, codes);
  decode_array(*scale.spec, codes, n, values);
  const std::uint32_t smallest = scale.smallest_positive();
  const float smallest_value = scale.decode(smallest);
  for (std::int64_t i = 0; i < n; ++i) {
    if (s[i] > 0 && values[i] == 0) {
      codes[i] = smallest;
      values[i] = smallest_value;
    }
  }
}

void read_scales(const ScaleSpec& scale, const std::uint8_t* stored, std::int64_t n,
                 std::uint32_t* codes, float* values) {
  for (std::int64_t i = 0; i < n; ++i)
    codes[i] = load_scale(stored + i * scale.bytes(), scale.bytes());
  if (!scale.spec) {
    for (std::int64_t i = 0; i < n; ++i) values[i] = bits_float(codes[i]);
    return;
  }
  decode_array(*scale.spec, codes, n, values);
}

}  // namespace nibble
#endif

#pragma once
// Fast paths of the quantizers' hot loops (block amax, E2M1 encode and pack, UE4M3 scale
// encode); tests check each against the generic engine of element.cpp.
//
// E2M1 counts the rounding thresholds |v| passes:
//
//   value  0    0.5    1    1.5    2    3    4    6
//   code   0     1     2     3     4    5    6    7
//   tie      .25   .75  1.25  1.75  2.5  3.5   5
//
// Ties go to the even code, so a tie above an odd code (0.75, 1.75, 3.5) rounds up (>=) and a
// tie above an even code (0.25, 1.25, 2.5, 5) rounds down (>). Branch-free, so the loop
// vectorizes. NaN inputs give 0: their block's scale carries the NaN.
#include <cstdint>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "nibble/models/bits.h"
#include "nibble/models/element.h"

namespace nibble {

template <Rounding kRounding>
inline std::uint8_t e2m1_code(float v) {
  const float a = bits_float(float_bits(v) & 0x7FFFFFFFu);
  const auto sign = static_cast<std::uint8_t>((float_bits(v) >> 28) & 0x8u);
  std::uint8_t m;
  if constexpr (kRounding == Rounding::kNearestEven) {
    m = static_cast<std::uint8_t>((a > 0.25f) + (a >= 0.75f) + (a > 1.25f) + (a >= 1.75f) +
                                  (a > 2.5f) + (a >= 3.5f) + (a > 5.0f));
  } else {
    m = static_cast<std::uint8_t>((a >= 0.25f) + (a >= 0.75f) + (a >= 1.25f) + (a >= 1.75f) +
                                  (a >= 2.5f) + (a >= 3.5f) + (a >= 5.0f));
  }
  return static_cast<std::uint8_t>(sign | m);
}

// codes[i] = E2M1(x[i] * multiplier) for i < n.
inline void encode_e2m1_scaled(const float* x, int n, float multiplier, Rounding rounding,
                               std::uint8_t* codes) {
  if (rounding == Rounding::kNearestEven) {
    for (int i = 0; i < n; ++i) codes[i] = e2m1_code<Rounding::kNearestEven>(x[i] * multiplier);
  } else {
    for (int i = 0; i < n; ++i) codes[i] = e2m1_code<Rounding::kNearestAway>(x[i] * multiplier);
  }
}

#ifdef __SSE2__
// Sixteen codes at once: the seven threshold compares give all-ones lanes, whose sum is
// minus the magnitude code; two codes per byte are then formed inside 16-bit lanes
// (lo | hi << 8  ->  lo | hi << 4) and narrowed.
template <Rounding kRounding>
inline __m128i e2m1_codes16(const float* x, __m128 multiplier) {
  const __m128i abs_mask = _mm_set1_epi32(0x7FFFFFFF);
  __m128i codes[4];
  for (int k = 0; k < 4; ++k) {
    const __m128 v = _mm_mul_ps(_mm_loadu_ps(x + 4 * k), multiplier);
    const __m128 a = _mm_and_ps(v, _mm_castsi128_ps(abs_mask));
    const auto above = [&](float t, bool inclusive) {
      return _mm_castps_si128(inclusive ? _mm_cmpge_ps(a, _mm_set1_ps(t))
                                        : _mm_cmpgt_ps(a, _mm_set1_ps(t)));
    };
    constexpr bool kAway = kRounding == Rounding::kNearestAway;
    __m128i sum = _mm_add_epi32(above(0.25f, kAway), above(0.75f, true));
    sum = _mm_add_epi32(sum, _mm_add_epi32(above(1.25f, kAway), above(1.75f, true)));
    sum = _mm_add_epi32(sum, _mm_add_epi32(above(2.5f, kAway), above(3.5f, true)));
    sum = _mm_add_epi32(sum, above(5.0f, kAway));
    const __m128i sign = _mm_and_si128(_mm_srli_epi32(_mm_castps_si128(v), 28), _mm_set1_epi32(8));
    codes[k] = _mm_or_si128(_mm_sub_epi32(_mm_setzero_si128(), sum), sign);
  }
  const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(codes[0], codes[1]),
                                         _mm_packs_epi32(codes[2], codes[3]));
  const __m128i pairs = _mm_and_si128(_mm_or_si128(bytes, _mm_srli_epi16(bytes, 4)),
                                      _mm_set1_epi16(0x00FF));
  return _mm_packus_epi16(pairs, pairs);  // low 8 bytes hold the 16 packed codes
}
#endif

// Encodes x[i] * multiplier for i < n (n even) straight into packed bytes, element 2i in the
// low nibble of out[i].
template <Rounding kRounding>
inline void encode_e2m1_packed(const float* x, int n, float multiplier, std::uint8_t* out) {
  int i = 0;
#ifdef __SSE2__
  const __m128 m = _mm_set1_ps(multiplier);
  for (; i + 16 <= n; i += 16) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i / 2), e2m1_codes16<kRounding>(x + i, m));
  }
#endif
  for (; i + 1 < n; i += 2) {
    out[i / 2] = static_cast<std::uint8_t>(e2m1_code<kRounding>(x[i] * multiplier) |
                                           (e2m1_code<kRounding>(x[i + 1] * multiplier) << 4));
  }
}

// A run of whole blocks, block j scaled by multipliers[j] (blocks with multiplier 0 encode
// as zeros): the block loop stays inside one function, so its set-up is paid once per row.
template <Rounding kRounding>
inline void encode_e2m1_blocks(const float* x, std::int64_t blocks, int block,
                               const float* multipliers, std::uint8_t* out) {
#ifdef __SSE2__
  if (block % 16 == 0) {
    for (std::int64_t j = 0; j < blocks; ++j) {
      const __m128 m = _mm_set1_ps(multipliers[j]);
      for (int i = 0; i < block; i += 16) {
        const std::int64_t e = j * block + i;
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + e / 2), e2m1_codes16<kRounding>(x + e, m));
      }
    }
    return;
  }
#endif
  for (std::int64_t j = 0; j < blocks; ++j) {
    encode_e2m1_packed<kRounding>(x + j * block, block, multipliers[j], out + j * block / 2);
  }
}

inline void encode_e2m1_blocks(const float* x, std::int64_t blocks, int block,
                               const float* multipliers, Rounding rounding, std::uint8_t* out) {
  if (rounding == Rounding::kNearestEven) {
    encode_e2m1_blocks<Rounding::kNearestEven>(x, blocks, block, multipliers, out);
  } else {
    encode_e2m1_blocks<Rounding::kNearestAway>(x, blocks, block, multipliers, out);
  }
}

inline void encode_e2m1_packed(const float* x, int n, float multiplier, Rounding rounding,
                               std::uint8_t* out) {
  if (rounding == Rounding::kNearestEven) {
    encode_e2m1_packed<Rounding::kNearestEven>(x, n, multiplier, out);
  } else {
    encode_e2m1_packed<Rounding::kNearestAway>(x, n, multiplier, out);
  }
}

// UE4M3 code of s for s in [2^-6, 448] (the normal range NVFP4's clamp guarantees): the FP32
// significand is rounded to 3 bits by adding just under half an ulp plus the kept LSB (ties
// to even), then the exponent is rebiased from 127 to 7.
inline std::uint32_t ue4m3_normal_code(float s) {
  const std::uint32_t b = float_bits(s);
  const std::uint32_t rounded = b + 0x7FFFFu + ((b >> 20) & 1u);
  return (rounded >> 20) - ((127u - 7u) << 3);
}

// Largest |x[i]| as FP32 bits: NaN and Inf compare above every finite value, so the result
// is >= 0x7F800000 exactly when the block holds a non-finite value. With the sign bit
// cleared the bits compare the same as signed integers, which SSE2 can max in parallel.
inline std::uint32_t amax_bits(const float* x, int n) {
  std::int32_t m = 0;
  int i = 0;
#ifdef __SSE2__
  if (n >= 4) {
    const __m128i abs_mask = _mm_set1_epi32(0x7FFFFFFF);
    __m128i best = _mm_setzero_si128();
    for (; i + 4 <= n; i += 4) {
      const __m128i b = _mm_and_si128(_mm_castps_si128(_mm_loadu_ps(x + i)), abs_mask);
      const __m128i greater = _mm_cmpgt_epi32(b, best);  // SSE2 has no pmaxsd
      best = _mm_or_si128(_mm_and_si128(greater, b), _mm_andnot_si128(greater, best));
    }
    // Fold the four lanes: 0,1 with 2,3; then 0 with 1. The byte shift of _mm_srli_si128 is
    // an immediate, so it is written out rather than looped over (a loop variable only
    // compiles when the optimizer unrolls it, which -O0 and sanitizer builds do not).
    const auto fold = [](__m128i best, __m128i other) {
      const __m128i greater = _mm_cmpgt_epi32(other, best);
      return _mm_or_si128(_mm_and_si128(greater, other), _mm_andnot_si128(greater, best));
    };
    best = fold(best, _mm_srli_si128(best, 8));
    best = fold(best, _mm_srli_si128(best, 4));
    m = _mm_cvtsi128_si32(best);
  }
#endif
  for (; i < n; ++i) {
    const auto b = static_cast<std::int32_t>(float_bits(x[i]) & 0x7FFFFFFFu);
    m = b > m ? b : m;
  }
  return static_cast<std::uint32_t>(m);
}

}  // namespace nibble

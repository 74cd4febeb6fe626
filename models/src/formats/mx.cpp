// OCP Microscaling (MX v1.0) formats: MXFP4, MXFP6 (E2M3, E3M2), MXFP8 (E4M3, E5M2), MXINT8.
//
// A block of k elements (32 by default) shares one E8M0 scale X = 2^x. With the default FLOOR
// rule x = floor(log2(amax)) - emax_elem, read from amax's FP32 exponent bits, where emax_elem
// is the exponent of the element's largest binade (E2M1: 6 = 1.5 * 2^2 -> 2; E4M3: 448 ->
// 8; MXINT8, whose elements are int8 / 64 < 2: 0). Elements are RNE(x_i / X), saturating.
// The other rules follow torchao's ScaleCalculationMode:
//   CEIL  x = ceil(log2(amax)) - emax_elem
//   EVEN  amax is first rounded to the element's mantissa width (half-ulp added), then FLOOR
//   RCEIL x = ceil(log2(amax * (1 / max_elem)))     (NVIDIA's cvt.rp.ue8m0 recipe)
// x is clamped to [-127, 127]; an all-zero block gets x = -127; a block holding NaN or Inf
// gets the NaN scale 0xFF and dequantizes to NaN.
#include <algorithm>
#include <array>
#include <limits>
#include <cmath>
#include <vector>

#include "fast_paths.h"
#include "family.h"
#include "nibble/models/bits.h"
#include "nibble/models/scale.h"

namespace nibble {
namespace {

enum class ScaleRule { kFloor, kCeil, kEven, kRceil };

constexpr int kE8M0Bias = 127;
constexpr int kMinSharedExponent = -127;
constexpr int kMaxSharedExponent = 127;
constexpr int kMxInt8FractionBits = 6;  // MXINT8 element = int8 * 2^-6

struct MxElement {
  std::string_view name;
  const ElementSpec* spec;
};

constexpr MxElement kMxElements[] = {
    {"mxfp4", &spec::kE2M1},      {"mxfp6_e2m3", &spec::kE2M3}, {"mxfp6_e3m2", &spec::kE3M2},
    {"mxfp8_e4m3", &spec::kE4M3}, {"mxfp8_e5m2", &spec::kE5M2}, {"mxint8", &spec::kInt8},
};

int ceil_log2(float a) {
  const int e = floor_log2(a);
  return exp2_int(e) == a ? e : e + 1;
}

class MxFormat final : public BlockFormat {
 public:
  MxFormat(const MxElement& element, FormatOptions& options)
      : elem_(*element.spec), is_int_(element.spec->is_integer) {
    const std::string rule = options.get_choice("scale", {"floor", "ceil", "even", "rceil"});
    rule_ = rule == "floor" ? ScaleRule::kFloor
            : rule == "ceil" ? ScaleRule::kCeil
            : rule == "even" ? ScaleRule::kEven
                             : ScaleRule::kRceil;
    const auto block = static_cast<int>(options.get_int("block", 32, 1, 4096));
    if (block & (block - 1)) {
      throw Error("format '" + options.base() + "': block=" + std::to_string(block) +
                  " is not a power of two");
    }
    rounding_ = options.get_rounding();
    if (is_int_) {
      int_lo_ = options.get_choice("range", {"symmetric", "full"}) == "symmetric" ? -127 : -128;
      max_elem_ = 127.0f / (1 << kMxInt8FractionBits);
      emax_ = 0;
      mantissa_bits_ = kMxInt8FractionBits;
    } else {
      max_elem_ = static_cast<float>(max_value(elem_));
      emax_ = floor_log2(max_elem_);
      mantissa_bits_ = elem_.man_bits;
    }
    info_ = {.name = options.canonical(),
             .family = "mx",
             .element = std::string(elem_.name),
             .element_bits = elem_.bits,
             .element_exponent = is_int_ ? -kMxInt8FractionBits : elem_.quantum_exponent(),
             .block = block,
             .scale = "e8m0",
             .scale_bits = 8,
             .bits_per_element = elem_.bits + 8.0 / block};
    for (std::uint32_t c = 0; c < elem_.code_count(); ++c) {
      if (std::isfinite(decode(elem_, c))) integers_[c] = decode_integer(elem_, c);
    }
    // MXINT8: round_to_int(x / X * 2^6, lo, 127); the float elements: encode(x / X).
    element_rule_ = {.spec = &elem_,
                     .rounding = rounding_,
                     .int_lo = int_lo_,
                     .int_hi = 127,
                     .unit = is_int_ ? static_cast<float>(1 << kMxInt8FractionBits) : 1.0f,
                     .op = ScaleOp::kMultiply};
  }

  QuantizedTensor quantize(MatrixView x) const override {
    QuantizedTensor q = make_tensor(x, /*scale_bytes=*/1, /*aux_bytes=*/0);
    const int block = info_.block;
    RunScratch s(block, q.blocks_per_row());
    quantize_runs(x, block, [&](const float* v, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      block_amax_bits(v, blocks, block, s.stats.data());
      std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row() + first;
      for (std::int64_t b = 0; b < blocks; ++b) {
        s.skip[b] = s.stats[b] >= 0x7F800000u;  // the NaN scale covers the block
        if (s.skip[b]) {
          scales[b] = static_cast<std::uint8_t>(spec::kE8M0.nan_code());
          continue;
        }
        const int shared = shared_exponent(bits_float(s.stats[b]));
        scales[b] = static_cast<std::uint8_t>(shared + kE8M0Bias);
        s.factor[b] = exp2_int(-shared);
      }
      encode_blocks(element_rule_, {v, blocks, block, s.factor.data(), nullptr, nullptr,
                                    s.skip.data(), q.row_elements(r), first * block,
                                    s.codes.data()});
    });
    return q;
  }

  // value * 2^x is exact or rounds once, exactly as exact_value() would; negative-zero codes
  // (E2M1 0x8, E4M3 0x80, ...) dequantize to -0.
  void dequantize(const QuantizedTensor& q, float* out) const override {
    RunScratch s(q.block, q.blocks_per_row());
    dequantize_runs(q, out, [&](float* values, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      const std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row() + first;
      for (std::int64_t b = 0; b < blocks; ++b) {
        s.factor[b] = scales[b] == spec::kE8M0.nan_code()
                          ? std::numeric_limits<float>::quiet_NaN()
                          : exp2_int(static_cast<int>(scales[b]) - kE8M0Bias);
      }
      decode_blocks(elem_, is_int_ ? exp2_int(-kMxInt8FractionBits) : 1.0f, nullptr,
                    {q.row_elements(r), first * q.block, blocks, q.block, s.factor.data(), nullptr,
                     nullptr, s.codes.data(), values,
                     streaming_output(q) ? s.values.data() : nullptr});
    });
  }

  void exact_row(const QuantizedTensor& q, std::int64_t r, ExactRow out) const override {
    const std::uint8_t* codes = q.row_elements(r);
    for (std::int64_t i = 0; i < q.padded_cols(); ++i) {
      out.integers[i] = integers_[unpack_code(codes, i, elem_.bits)];
    }
    const std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row();
    for (std::int64_t b = 0; b < q.blocks_per_row(); ++b) {
      out.scales[b] = scales[b] == spec::kE8M0.nan_code()
                          ? ExactScale{0, 0, true}
                          : ExactScale{1, static_cast<int>(scales[b]) - kE8M0Bias, false};
    }
  }

  int element_exponent() const override { return info_.element_exponent; }
  std::int64_t max_element_integer() const override {
    return is_int_ ? 128 : decode_integer(elem_, elem_.max_code());
  }

 private:
  int shared_exponent(float amax) const {
    if (amax == 0) return kMinSharedExponent;
    int e = 0;
    switch (rule_) {
      case ScaleRule::kFloor: e = floor_log2(amax) - emax_; break;
      case ScaleRule::kCeil: e = ceil_log2(amax) - emax_; break;
      case ScaleRule::kEven: {
        // Round amax to the element's mantissa width (adding half an ulp of that width), so
        // a block whose amax rounds up into the next binade gets the larger scale.
        const std::uint32_t rounded =
            (float_bits(amax) + (1u << (22 - mantissa_bits_))) & 0x7F800000u;
        e = rounded == 0 ? kMinSharedExponent : static_cast<int>(rounded >> 23) - 127 - emax_;
        break;
      }
      case ScaleRule::kRceil: {
        const float descale = amax * (1.0f / max_elem_);
        e = descale == 0 ? kMinSharedExponent : ceil_log2(descale);
        break;
      }
    }
    return std::clamp(e, kMinSharedExponent, kMaxSharedExponent);
  }

  const ElementSpec& elem_;
  bool is_int_;
  ScaleRule rule_ = ScaleRule::kFloor;
  Rounding rounding_ = Rounding::kNearestEven;
  int int_lo_ = -127;
  float max_elem_ = 0;
  int emax_ = 0;
  int mantissa_bits_ = 0;
  ElementRule element_rule_;
  std::array<std::int64_t, 256> integers_{};  // exact integers for the golden dot
};

std::shared_ptr<BlockFormat> make_mx(FormatOptions& options) {
  for (const MxElement& element : kMxElements) {
    if (options.base() == element.name) return std::make_shared<MxFormat>(element, options);
  }
  return nullptr;
}

}  // namespace

FormatFamily mx_family() {
  return {"mxfp4, mxfp6_e2m3, mxfp6_e3m2, mxfp8_e4m3, mxfp8_e5m2, mxint8",
          "scale=floor|ceil|even|rceil, block=<power of two, 32>, round=even|away, "
          "range=symmetric|full (mxint8)",
          {"mxfp4", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8"},
          make_mx};
}

}  // namespace nibble

// Integer group formats int<b>_g<g> and int<b>_g<g>_asym: b-bit integers (2..8), one scale per
// group of g elements along the row, FP16 by default (scale=bf16|fp32).
//
//   symmetric:  s = amax / (2^(b-1) - 1);  q_i = clamp(RNE(x_i / s), -(2^(b-1) - 1), 2^(b-1) - 1)
//   asymmetric: lo = min(x, 0), hi = max(x, 0);  s = (hi - lo) / (2^b - 1);
//               z = clamp(RNE(-lo / s), 0, 2^b - 1);  q_i = clamp(RNE(x_i / s) + z, 0, 2^b - 1)
//               x_i ~= (q_i - z) * s     (zero is exact; the GPTQ convention)
// s is rounded to the scale format first and the division uses the stored value. An all-zero
// group gets the smallest positive scale. The zero point is stored in aux (one byte) and
// counted as b bits in bits_per_element.
#include <algorithm>
#include <cmath>
#include <limits>

#include "fast_paths.h"
#include "family.h"
#include "nibble/models/bits.h"
#include "nibble/models/scale.h"

namespace nibble {
namespace {

class IntGroupFormat final : public BlockFormat {
 public:
  IntGroupFormat(int bits, int group, bool asymmetric, FormatOptions& options)
      : bits_(bits), asymmetric_(asymmetric) {
    scale_ = scale_spec(options.get_choice("scale", {"fp16", "bf16", "fp32"}));
    rounding_ = options.get_rounding();
    info_ = {.name = options.canonical(),
             .family = "int_group",
             .element = "int" + std::to_string(bits),
             .element_bits = bits,
             .block = group,
             .scale = std::string(scale_.name()),
             .scale_bits = scale_.bits(),
             .side_bits_per_block = asymmetric ? bits : 0,  // the zero point
             .bits_per_element = bits + (scale_.bits() + (asymmetric ? bits : 0)) / static_cast<double>(group)};
  }

  QuantizedTensor quantize(MatrixView x) const override {
    QuantizedTensor q = make_tensor(x, scale_.bytes(), asymmetric_ ? 1 : 0);
    const int group = info_.block;
    const std::int32_t levels = (1 << bits_) - 1;
    const std::int32_t qmax = (1 << (bits_ - 1)) - 1;
    const ElementRule rule{.spec = &element_spec(info_.element),
                           .rounding = rounding_,
                           .int_lo = asymmetric_ ? -levels : -qmax,
                           .int_hi = asymmetric_ ? levels : qmax,
                           .op = ScaleOp::kDivide};
    const std::uint32_t smallest = scale_.smallest_positive();
    const float smallest_value = scale_.decode(smallest);
    RunScratch s(group, q.blocks_per_row());
    quantize_runs(x, group, [&](const float* v, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      // hi = max(x, 0) and lo = min(x, 0) = -max(-x, 0); symmetric groups need max(hi, -lo).
      if (asymmetric_) {
        block_side_max_bits(v, blocks, group, s.stats.data(), s.stats_neg.data());
      } else {
        block_amax_bits(v, blocks, group, s.stats.data());
      }
      for (std::int64_t b = 0; b < blocks; ++b) {
        s.skip[b] = s.stats[b] >= 0x7F800000u || (asymmetric_ && s.stats_neg[b] >= 0x7F800000u);
        const float hi = bits_float(s.stats[b]);
        if (!asymmetric_) {
          s.scale_in[b] = hi / static_cast<float>(qmax);
          continue;
        }
        // The span (hi - lo) / levels in float arithmetic, as the format's references compute
        // it; only a finite group spanning more than FLT_MAX (e.g. -2e38 and 2e38), whose float
        // difference overflows to Inf, takes it in double, where the quotient (at most 2/3
        // FLT_MAX) fits again.
        const float lo = -bits_float(s.stats_neg[b]);
        const float span = hi - lo;
        s.scale_in[b] = std::isfinite(span)
                            ? span / static_cast<float>(levels)
                            : static_cast<float>((static_cast<double>(hi) - lo) / levels);
      }
      encode_positive_scales(scale_, s.scale_in.data(), blocks, s.scale_codes.data(),
                             s.factor.data());
      const std::int64_t index = r * q.blocks_per_row() + first;
      for (std::int64_t b = 0; b < blocks; ++b) {
        std::uint8_t* scale_out = q.scales.data() + (index + b) * q.scale_bytes;
        if (s.skip[b]) {
          store_scale(scale_out, q.scale_bytes, scale_.nan_code());
          s.zero_point[b] = 0;
          continue;
        }
        if (!(s.scale_in[b] > 0)) {  // an all-zero group
          s.scale_codes[b] = smallest;
          s.factor[b] = smallest_value;
        }
        store_scale(scale_out, q.scale_bytes, s.scale_codes[b]);
        if (asymmetric_) {
          const float lo = -bits_float(s.stats_neg[b]);
          s.zero_point[b] = static_cast<std::uint8_t>(round_to_int(-lo / s.factor[b], 0, levels, rounding_));
          q.aux[static_cast<size_t>(index + b)] = s.zero_point[b];
        }
      }
      // Padding values are 0 and encode to the zero point, so they decode to exactly zero.
      encode_blocks(rule, {v, blocks, group, s.factor.data(), nullptr,
                           asymmetric_ ? s.zero_point.data() : nullptr, s.skip.data(),
                           q.row_elements(r), first * group, s.codes.data()});
    });
    return q;
  }

  // round(integer * scale) once, as exact_value() does; exact_value() reads a non-finite
  // scale as NaN and a -0 scale as 0.
  void dequantize(const QuantizedTensor& q, float* out) const override {
    RunScratch s(q.block, q.blocks_per_row());
    dequantize_runs(q, out, [&](float* values, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      const std::int64_t index = r * q.blocks_per_row() + first;
      read_scales(scale_, q.scales.data() + index * q.scale_bytes, blocks, s.scale_codes.data(),
                  s.factor.data());
      for (std::int64_t b = 0; b < blocks; ++b) {
        if (asymmetric_) s.zero_point[b] = q.aux[static_cast<size_t>(index + b)];
        const float f = s.factor[b];
        s.factor[b] = !std::isfinite(f) ? std::numeric_limits<float>::quiet_NaN() : f == 0 ? 0.0f : f;
      }
      decode_blocks(element_spec(info_.element), 1.0f, nullptr,
                    {q.row_elements(r), first * q.block, blocks, q.block, s.factor.data(), nullptr,
                     asymmetric_ ? s.zero_point.data() : nullptr, s.codes.data(), values,
                     streaming_output(q) ? s.values.data() : nullptr});
    });
  }

  void exact_row(const QuantizedTensor& q, std::int64_t r, ExactRow out) const override {
    const std::uint8_t* codes = q.row_elements(r);
    const std::int64_t first_block = r * q.blocks_per_row();
    const std::int64_t sign = std::int64_t{1} << (bits_ - 1);
    for (std::int64_t i = 0; i < q.padded_cols(); ++i) {
      const std::int64_t code = unpack_code(codes, i, bits_);
      out.integers[i] = asymmetric_ ? code - q.aux[static_cast<size_t>(first_block + i / q.block)]
                                    : (code ^ sign) - sign;  // sign-extend
    }
    for (std::int64_t b = 0; b < q.blocks_per_row(); ++b) {
      out.scales[b] = scale_.exact(
          load_scale(q.scales.data() + (first_block + b) * q.scale_bytes, q.scale_bytes));
    }
  }

  int element_exponent() const override { return 0; }
  std::int64_t max_element_integer() const override { return (1 << bits_) - 1; }

 private:
  int bits_;
  bool asymmetric_;
  ScaleSpec scale_{nullptr};
  Rounding rounding_ = Rounding::kNearestEven;
};

std::shared_ptr<BlockFormat> make_int_group(FormatOptions& options) {
  std::string_view name = options.base();
  std::int64_t bits = 0, group = 0;
  if (!consume_prefix(name, "int") || !consume_number(name, bits) || !consume_prefix(name, "_g") ||
      !consume_number(name, group)) {
    return nullptr;
  }
  const bool asymmetric = consume_prefix(name, "_asym");
  if (!name.empty()) return nullptr;
  if (bits < 2 || bits > 8) {
    throw Error("format '" + options.base() + "': integer width must be 2..8");
  }
  if (group < 1 || group > 65536) {
    throw Error("format '" + options.base() + "': group size must be 1..65536");
  }
  return std::make_shared<IntGroupFormat>(static_cast<int>(bits), static_cast<int>(group),
                                          asymmetric, options);
}

}  // namespace

FormatFamily int_group_family() {
  return {"int<b>_g<g>, int<b>_g<g>_asym (b = 2..8)", "scale=fp16|bf16|fp32, round=even|away",
          {"int4_g32", "int4_g128", "int4_g128_asym", "int8_g32"}, make_int_group};
}

}  // namespace nibble

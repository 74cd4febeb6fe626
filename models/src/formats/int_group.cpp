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
    for (std::int64_t r = 0; r < x.rows; ++r) {
      std::uint8_t* codes = q.row_elements(r);
      for (std::int64_t b = 0; b < q.blocks_per_row(); ++b) {
        const std::int64_t index = r * q.blocks_per_row() + b;
        std::uint8_t* scale_out = q.scales.data() + index * q.scale_bytes;
        const float* v = x.row(r) + b * group;
        const int n = static_cast<int>(std::min<std::int64_t>(group, x.cols - b * group));
        float lo = 0, hi = 0;
        bool finite = true;
        for (int i = 0; i < n; ++i) {
          finite = finite && std::isfinite(v[i]);
          lo = std::min(lo, v[i]);
          hi = std::max(hi, v[i]);
        }
        if (!finite) {
          store_scale(scale_out, q.scale_bytes, scale_.nan_code());
          continue;
        }
        // The span (hi - lo) / levels in float arithmetic, as the format's references compute
        // it; only a finite group spanning more than FLT_MAX (e.g. -2e38 and 2e38), whose float
        // difference overflows to Inf, takes it in double, where the quotient (at most 2/3
        // FLT_MAX) fits again.
        const float span = hi - lo;
        const float range =
            !asymmetric_          ? std::max(hi, -lo) / static_cast<float>(qmax)
            : std::isfinite(span) ? span / static_cast<float>(levels)
                                  : static_cast<float>((static_cast<double>(hi) - lo) / levels);
        const std::uint32_t code =
            range > 0 ? scale_.encode_positive(range) : scale_.smallest_positive();
        store_scale(scale_out, q.scale_bytes, code);
        const float s = scale_.decode(code);
        if (asymmetric_) {
          const std::int32_t zero = round_to_int(-lo / s, 0, levels, rounding_);
          q.aux[static_cast<size_t>(index)] = static_cast<std::uint8_t>(zero);
          for (int i = 0; i < n; ++i) {
            const std::int32_t level = round_to_int(v[i] / s, -levels, levels, rounding_) + zero;
            pack_code(codes, b * group + i, bits_,
                      static_cast<std::uint32_t>(std::clamp(level, 0, levels)));
          }
          for (int i = n; i < group; ++i) {  // padding decodes to exactly zero
            pack_code(codes, b * group + i, bits_, static_cast<std::uint32_t>(zero));
          }
        } else {
          for (int i = 0; i < n; ++i) {
            const std::int32_t level = round_to_int(v[i] / s, -qmax, qmax, rounding_);
            pack_code(codes, b * group + i, bits_, static_cast<std::uint32_t>(level) & levels);
          }
        }
      }
    }
    return q;
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

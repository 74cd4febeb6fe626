// AFPQ (asymmetric FP quantization, Zhang et al. 2023): FP4 E2M1 elements with two FP16 scales
// per group, one for the positive and one for the negative values, so a skewed group uses the
// whole E2M1 range on both sides:
//   s+ = max(x, 0) / 6,   s- = max(-x, 0) / 6
//   x_i >= 0: code = E2M1(x_i / s+);   x_i < 0: code = E2M1(x_i / s-)
// s+ is stored in `scales`, s- in `aux`. Because a block has two scales, its dot product is
// not one scale product times an integer sum: the golden dot does not consume AFPQ.
#include <algorithm>
#include <cmath>
#include <vector>

#include "family.h"
#include "nibble/models/scale.h"

namespace nibble {
namespace {

class AfpqFormat final : public BlockFormat {
 public:
  AfpqFormat(int group, FormatOptions& options) {
    scale_ = scale_spec(options.get_choice("scale", {"fp16", "bf16", "fp32"}));
    rounding_ = options.get_rounding();
    info_ = {.name = options.canonical(),
             .family = "afpq",
             .element = "e2m1",
             .element_bits = 4,
             .element_exponent = spec::kE2M1.quantum_exponent(),
             .block = group,
             .scale = std::string(scale_.name()),
             .scale_bits = scale_.bits(),
             .side_bits_per_block = scale_.bits(),  // the negative values' scale
             .bits_per_element = 4 + 2.0 * scale_.bits() / group};
  }

  QuantizedTensor quantize(MatrixView x) const override {
    QuantizedTensor q = make_tensor(x, scale_.bytes(), scale_.bytes());
    const int group = info_.block;
    for (std::int64_t r = 0; r < x.rows; ++r) {
      std::uint8_t* codes = q.row_elements(r);
      for (std::int64_t b = 0; b < q.blocks_per_row(); ++b) {
        const std::int64_t index = r * q.blocks_per_row() + b;
        const float* v = x.row(r) + b * group;
        const int n = static_cast<int>(std::min<std::int64_t>(group, x.cols - b * group));
        float pos = 0, neg = 0;
        bool finite = true;
        for (int i = 0; i < n; ++i) {
          finite = finite && std::isfinite(v[i]);
          pos = std::max(pos, v[i]);
          neg = std::max(neg, -v[i]);
        }
        std::uint8_t* pos_out = q.scales.data() + index * q.scale_bytes;
        std::uint8_t* neg_out = q.aux.data() + index * q.aux_bytes;
        if (!finite) {
          store_scale(pos_out, q.scale_bytes, scale_.nan_code());
          store_scale(neg_out, q.aux_bytes, scale_.nan_code());
          continue;
        }
        const std::uint32_t pos_code = side_scale(pos), neg_code = side_scale(neg);
        store_scale(pos_out, q.scale_bytes, pos_code);
        store_scale(neg_out, q.aux_bytes, neg_code);
        const float s_pos = scale_.decode(pos_code), s_neg = scale_.decode(neg_code);
        for (int i = 0; i < n; ++i) {
          const float s = std::signbit(v[i]) ? s_neg : s_pos;
          pack_code(codes, b * group + i, 4, encode(spec::kE2M1, v[i] / s, rounding_));
        }
      }
    }
    return q;
  }

  void dequantize(const QuantizedTensor& q, float* out) const override {
    for (std::int64_t r = 0; r < q.rows; ++r) {
      const std::uint8_t* codes = q.row_elements(r);
      for (std::int64_t c = 0; c < q.cols; ++c) {
        const std::int64_t index = r * q.blocks_per_row() + c / q.block;
        const std::uint32_t code = unpack_code(codes, c, 4);
        const bool negative = code & spec::kE2M1.sign_bit();
        const std::uint32_t scale_code =
            negative ? load_scale(q.aux.data() + index * q.aux_bytes, q.aux_bytes)
                     : load_scale(q.scales.data() + index * q.scale_bytes, q.scale_bytes);
        // A NaN group has both scales NaN; test the positive one so +0 codes also give NaN.
        const float positive = scale_.decode(
            load_scale(q.scales.data() + index * q.scale_bytes, q.scale_bytes));
        const float s = std::isnan(positive) ? positive : scale_.decode(scale_code);
        // E2M1 value times the scale: exact for FP16/BF16 scales, one rounding for FP32; keeps -0.
        out[r * q.cols + c] = static_cast<float>(decode(spec::kE2M1, code)) * s;
      }
    }
  }

  bool supports_dot() const override { return false; }
  void exact_row(const QuantizedTensor&, std::int64_t, ExactRow) const override {
    throw Error("format '" + info_.name +
                "' has two scales per group; the golden dot product does not support it");
  }
  int element_exponent() const override { return info_.element_exponent; }
  std::int64_t max_element_integer() const override { return 12; }

 private:
  std::uint32_t side_scale(float side_max) const {
    return side_max > 0 ? scale_.encode_positive(side_max / 6.0f) : scale_.smallest_positive();
  }

  ScaleSpec scale_{nullptr};
  Rounding rounding_ = Rounding::kNearestEven;
};

std::shared_ptr<BlockFormat> make_afpq(FormatOptions& options) {
  std::string_view name = options.base();
  std::int64_t group = 0;
  if (!consume_prefix(name, "afpq4_g") || !consume_number(name, group) || !name.empty()) {
    return nullptr;
  }
  if (group < 1 || group > 65536) {
    throw Error("format '" + options.base() + "': group size must be 1..65536");
  }
  return std::make_shared<AfpqFormat>(static_cast<int>(group), options);
}

}  // namespace

FormatFamily afpq_family() {
  return {"afpq4_g<g>", "scale=fp16|bf16|fp32, round=even|away", {"afpq4_g128"}, make_afpq};
}

}  // namespace nibble

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

#include "fast_paths.h"
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
    const ElementRule rule{.spec = &spec::kE2M1, .rounding = rounding_, .op = ScaleOp::kDivideBySign};
    const std::uint32_t smallest = scale_.smallest_positive();
    const float smallest_value = scale_.decode(smallest);
    RunScratch s(group, q.blocks_per_row());
    quantize_runs(x, group, [&](const float* v, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      // s+ from max(x, 0), s- from max(-x, 0).
      block_side_max_bits(v, blocks, group, s.stats.data(), s.stats_neg.data());
      for (std::int64_t b = 0; b < blocks; ++b) {
        s.skip[b] = s.stats[b] >= 0x7F800000u || s.stats_neg[b] >= 0x7F800000u;
        s.scale_in[b] = bits_float(s.stats[b]) / 6.0f;
        s.scale_in_neg[b] = bits_float(s.stats_neg[b]) / 6.0f;
      }
      encode_positive_scales(scale_, s.scale_in.data(), blocks, s.scale_codes.data(),
                             s.factor.data());
      encode_positive_scales(scale_, s.scale_in_neg.data(), blocks, s.scale_codes_neg.data(),
                             s.factor_neg.data());
      const std::int64_t index = r * q.blocks_per_row() + first;
      for (std::int64_t b = 0; b < blocks; ++b) {
        std::uint8_t* pos_out = q.scales.data() + (index + b) * q.scale_bytes;
        std::uint8_t* neg_out = q.aux.data() + (index + b) * q.aux_bytes;
        if (s.skip[b]) {
          store_scale(pos_out, q.scale_bytes, scale_.nan_code());
          store_scale(neg_out, q.aux_bytes, scale_.nan_code());
          continue;
        }
        // A side without values gets the smallest scale (a side whose max / 6 underflows keeps
        // encode_positive's code).
        if (!(bits_float(s.stats[b]) > 0)) {
          s.scale_codes[b] = smallest;
          s.factor[b] = smallest_value;
        }
        if (!(bits_float(s.stats_neg[b]) > 0)) {
          s.scale_codes_neg[b] = smallest;
          s.factor_neg[b] = smallest_value;
        }
        store_scale(pos_out, q.scale_bytes, s.scale_codes[b]);
        store_scale(neg_out, q.aux_bytes, s.scale_codes_neg[b]);
      }
      encode_blocks(rule, {v, blocks, group, s.factor.data(), s.factor_neg.data(), nullptr,
                           s.skip.data(), q.row_elements(r), first * group, s.codes.data()});
    });
    return q;
  }

  // E2M1 value times the scale of its sign: exact for FP16/BF16 scales, one rounding for FP32;
  // keeps -0. A NaN group has both scales NaN; the positive one decides, so that +0 codes
  // also give NaN.
  void dequantize(const QuantizedTensor& q, float* out) const override {
    RunScratch s(q.block, q.blocks_per_row());
    dequantize_runs(q, out, [&](float* values, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      const std::int64_t index = r * q.blocks_per_row() + first;
      read_scales(scale_, q.scales.data() + index * q.scale_bytes, blocks, s.scale_codes.data(),
                  s.factor.data());
      read_scales(scale_, q.aux.data() + index * q.aux_bytes, blocks, s.scale_codes_neg.data(),
                  s.factor_neg.data());
      for (std::int64_t b = 0; b < blocks; ++b) {
        if (std::isnan(s.factor[b])) s.factor_neg[b] = s.factor[b];
      }
      decode_blocks(spec::kE2M1, 1.0f, nullptr,
                    {q.row_elements(r), first * q.block, blocks, q.block, s.factor.data(),
                     s.factor_neg.data(), nullptr, s.codes.data(), values,
                     streaming_output(q) ? s.values.data() : nullptr});
    });
  }

  bool supports_dot() const override { return false; }
  void exact_row(const QuantizedTensor&, std::int64_t, ExactRow) const override {
    throw Error("format '" + info_.name +
                "' has two scales per group; the golden dot product does not support it");
  }
  int element_exponent() const override { return info_.element_exponent; }
  std::int64_t max_element_integer() const override { return 12; }

 private:
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

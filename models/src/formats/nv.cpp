// NVFP4 and NVINT4: 16-element blocks with a UE4M3 block scale and an FP32 per-tensor scale.
//
// Default (torchao) arithmetic, for a tensor x with amax A and element maximum m (E2M1: 6,
// NVINT4: 7):
//   g        = A / (448 * m)                          per-tensor FP32 scale
//   s_j      = RNE_E4M3(clamp(amax_j / m / g, 2^-6, 448))   block scale (UE4M3 code)
//   code_i   = RNE_elem(x_i * ((1 / g) / s_j))
//   x_i     ~= dec(code_i) * s_j * g
// The clamp keeps s_j a normal E4M3 value, so an all-zero block gets the smallest scale 2^-6.
// The ModelOpt variant (arith=modelopt) drops the clamp, replaces a zero block scale by 1
// and divides: code_i = RNE_elem(x_i / (s_j * g)).
// g is taken over the finite values; if it is zero or not finite (an all-zero tensor) it is 1.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "fast_paths.h"
#include "family.h"
#include "nibble/models/bits.h"
#include "nibble/models/scale.h"

namespace nibble {
namespace {

constexpr float kE4M3Max = 448.0f;
constexpr float kSmallestNormalE4M3 = 0x1p-6f;

class NvFormat final : public BlockFormat {
 public:
  NvFormat(bool int_elements, FormatOptions& options)
      : elem_(int_elements ? spec::kInt4 : spec::kE2M1),
        int_elements_(int_elements),
        elem_max_(int_elements ? 7.0f : 6.0f) {
    const auto block = static_cast<int>(options.get_int("block", 16, 2, 4096));
    if (block % 2) {
      throw Error("format '" + options.base() + "': block=" + std::to_string(block) +
                  " must be even (two 4-bit codes per byte)");
    }
    modelopt_ = options.get_choice("arith", {"torchao", "modelopt"}) == "modelopt";
    rounding_ = options.get_rounding();
    info_ = {.name = options.canonical(),
             .family = "nv",
             .element = std::string(elem_.name),
             .element_bits = 4,
             .element_exponent = elem_.quantum_exponent(),
             .block = block,
             .scale = "ue4m3",
             .scale_bits = 8,
             .tensor_scale = true,
             .bits_per_element = 4.0 + 8.0 / block};
  }

  QuantizedTensor quantize(MatrixView x) const override {
    QuantizedTensor q = make_tensor(x, /*scale_bytes=*/1, /*aux_bytes=*/0);
    q.tensor_scale = tensor_scale(x);
    const float g = q.tensor_scale;
    const float inv_g = 1.0f / g;
    const int block = info_.block;
    // x * ((1 / g) / s) (torchao) or x / (s * g) (ModelOpt), then the element rule.
    const ElementRule rule{.spec = &elem_,
                           .rounding = rounding_,
                           .int_lo = -7,
                           .int_hi = 7,
                           .op = modelopt_ ? ScaleOp::kDivide : ScaleOp::kMultiply};
    const auto one = static_cast<std::uint32_t>(encode(spec::kUE4M3, 1.0f));
    RunScratch s(block, q.blocks_per_row());
    quantize_runs(x, block, [&](const float* v, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      block_amax_bits(v, blocks, block, s.stats.data());
      // Loops over the run's blocks without table lookups, so that the compiler vectorizes
      // them (a scalar division per 16 values would cost as much as their encode).
      for (std::int64_t b = 0; b < blocks; ++b) {
        const float ratio = bits_float(s.stats[b]) / elem_max_ / g;
        s.scale_in[b] = modelopt_ ? ratio : std::clamp(ratio, kSmallestNormalE4M3, kE4M3Max);
      }
      encode_array(spec::kUE4M3, Rounding::kNearestEven, s.scale_in.data(), blocks,
                   s.scale_codes.data());
      std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row() + first;
      for (std::int64_t b = 0; b < blocks; ++b) {
        s.skip[b] = s.stats[b] >= 0x7F800000u;
        if (s.skip[b]) s.scale_codes[b] = spec::kUE4M3.nan_code();
        scales[b] = static_cast<std::uint8_t>(s.scale_codes[b]);
      }
      if (modelopt_) {
        for (std::int64_t b = 0; b < blocks; ++b) {
          std::uint32_t& code = s.scale_codes[b];
          if (!s.skip[b] && scale_values_[code] == 0) code = one;
          scales[b] = static_cast<std::uint8_t>(code);
          s.factor[b] = scale_values_[code] * g;
        }
      } else {
        // A normal UE4M3 code (the clamp keeps them normal) is an FP32 pattern shifted by 20
        // bits and rebiased from 7 to 127; NaN blocks are skipped, whatever their factor.
        for (std::int64_t b = 0; b < blocks; ++b) {
          s.factor[b] = inv_g / bits_float((s.scale_codes[b] << 20) + ((127u - 7u) << 23));
        }
      }
      encode_blocks(rule, {v, blocks, block, s.factor.data(), nullptr, nullptr, s.skip.data(),
                           q.row_elements(r), first * block, s.codes.data()});
    });
    return q;
  }

  // (element * scale) is exact in FP32 and the product with g rounds once, as exact_value()
  // does; E2M1's -0 stays -0.
  void dequantize(const QuantizedTensor& q, float* out) const override {
    RunScratch s(q.block, q.blocks_per_row());
    dequantize_runs(q, out, [&](float* values, std::int64_t r, std::int64_t first,
                                std::int64_t blocks) {
      const std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row() + first;
      for (std::int64_t b = 0; b < blocks; ++b) s.factor[b] = scale_values_[scales[b] & 0x7F];
      decode_blocks(elem_, 1.0f, &q.tensor_scale,
                    {q.row_elements(r), first * q.block, blocks, q.block, s.factor.data(), nullptr,
                     nullptr, s.codes.data(), values,
                     streaming_output(q) ? s.values.data() : nullptr});
    });
  }

  void exact_row(const QuantizedTensor& q, std::int64_t r, ExactRow out) const override {
    const std::uint8_t* codes = q.row_elements(r);
    for (std::int64_t i = 0; i < q.padded_cols() / 2; ++i) {  // blocks of 16: whole bytes
      out.integers[2 * i] = integers_[codes[i] & 0xFu];
      out.integers[2 * i + 1] = integers_[codes[i] >> 4];
    }
    const std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row();
    for (std::int64_t b = 0; b < q.blocks_per_row(); ++b) out.scales[b] = exact_scales_[scales[b]];
  }

  int element_exponent() const override { return info_.element_exponent; }
  std::int64_t max_element_integer() const override { return int_elements_ ? 7 : 12; }

 private:
  float tensor_scale(MatrixView x) const {
    const float amax = bits_float(finite_amax_bits(x.data, x.rows * x.cols));
    const float g = amax / (kE4M3Max * elem_max_);
    return g > 0 && std::isfinite(g) ? g : 1.0f;
  }

  const ElementSpec& elem_;
  const std::array<float, 128> scale_values_ = [] {
    std::array<float, 128> values{};
    for (std::uint32_t c = 0; c < 128; ++c) values[c] = static_cast<float>(decode(spec::kUE4M3, c));
    return values;
  }();
  // The golden dot's operands by table: element codes in units of the element's quantum, and
  // every stored scale byte's exact form.
  const std::array<std::int64_t, 16> integers_ = [this] {
    std::array<std::int64_t, 16> integers{};
    for (std::uint32_t c = 0; c < 16; ++c) {
      integers[c] = static_cast<std::int64_t>(std::ldexp(decode(elem_, c), -elem_.quantum_exponent()));
    }
    return integers;
  }();
  const std::array<ExactScale, 256> exact_scales_ = [] {
    std::array<ExactScale, 256> scales{};
    const ScaleSpec scale{&spec::kUE4M3};
    for (std::uint32_t c = 0; c < 256; ++c) scales[c] = scale.exact(c);
    return scales;
  }();
  bool int_elements_;
  float elem_max_;
  bool modelopt_ = false;
  Rounding rounding_ = Rounding::kNearestEven;
};

std::shared_ptr<BlockFormat> make_nv(FormatOptions& options) {
  if (options.base() == "nvfp4") return std::make_shared<NvFormat>(false, options);
  if (options.base() == "nvint4") return std::make_shared<NvFormat>(true, options);
  return nullptr;
}

}  // namespace

FormatFamily nv_family() {
  return {"nvfp4, nvint4", "arith=torchao|modelopt, block=<even, 16>, round=even|away",
          {"nvfp4", "nvint4"}, make_nv};
}

}  // namespace nibble

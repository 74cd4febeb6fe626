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
    const std::int64_t blocks = q.blocks_per_row();
    std::vector<std::uint8_t> codes(static_cast<size_t>(block));
    std::vector<float> divided(static_cast<size_t>(block));
    // Per row, first every block's scale (independent divisions that pipeline), then the
    // elements, while the row is still in cache. The ModelOpt variant divides by s * g.
    std::vector<float> factor(static_cast<size_t>(blocks));
    for (std::int64_t r = 0; r < x.rows; ++r) {
      std::uint8_t* row_codes = q.row_elements(r);
      std::uint8_t* row_scales = q.scales.data() + r * blocks;
      for (std::int64_t b = 0; b < blocks; ++b) {
        const int n = static_cast<int>(std::min<std::int64_t>(block, x.cols - b * block));
        // Streaming from DRAM is latency-bound here: ask for the data 4 KiB ahead.
        __builtin_prefetch(x.row(r) + b * block + 1024);
        const std::uint32_t amax = amax_bits(x.row(r) + b * block, n);
        if (amax >= 0x7F800000u) {
          row_scales[b] = static_cast<std::uint8_t>(spec::kUE4M3.nan_code());
          continue;
        }
        const float block_amax = bits_float(amax);
        if (modelopt_) {
          std::uint32_t code = encode(spec::kUE4M3, block_amax / elem_max_ / g);
          if (scale_values_[code] == 0) code = encode(spec::kUE4M3, 1.0f);
          row_scales[b] = static_cast<std::uint8_t>(code);
          factor[b] = scale_values_[code] * g;
        } else {
          const float s = std::clamp(block_amax / elem_max_ / g, kSmallestNormalE4M3, kE4M3Max);
          const std::uint32_t code = ue4m3_normal_code(s);
          row_scales[b] = static_cast<std::uint8_t>(code);
          factor[b] = inv_g / scale_values_[code];
        }
      }
      std::int64_t first = 0;
      if (!modelopt_ && !int_elements_) {  // the hot path: whole blocks in one call
        first = x.cols / block;
        for (std::int64_t b = 0; b < first; ++b) {
          if (row_scales[b] == spec::kUE4M3.nan_code()) factor[b] = 0;
        }
        encode_e2m1_blocks(x.row(r), first, block, factor.data(), rounding_, row_codes);
        for (std::int64_t b = 0; b < first; ++b) {  // x * 0 left -0 codes for negative x
          if (row_scales[b] == spec::kUE4M3.nan_code()) {
            std::fill_n(row_codes + b * block / 2, block / 2, std::uint8_t{0});
          }
        }
      }
      for (std::int64_t b = first; b < blocks; ++b) {
        if (row_scales[b] == spec::kUE4M3.nan_code()) continue;  // codes stay 0
        const float* v = x.row(r) + b * block;
        const int n = static_cast<int>(std::min<std::int64_t>(block, x.cols - b * block));
        if (modelopt_) {
          for (int i = 0; i < n; ++i) divided[i] = v[i] / factor[b];
          encode_block(divided.data(), n, 1.0f, codes.data());
        } else {
          encode_block(v, n, factor[b], codes.data());
        }
        if (n < block) std::fill(codes.begin() + n, codes.end(), 0);
        pack_codes(row_codes, b * block, codes.data(), block, 4);
      }
    }
    return q;
  }

  // Through code tables, so that E2M1's -0 stays -0: (element * scale) is exact in FP32,
  // and the product with g rounds once, as exact_value() does.
  void dequantize(const QuantizedTensor& q, float* out) const override {
    dequantize_codes(q, out, [this, &q](std::uint32_t code, std::uint8_t scale) {
      return element_values_[code] * scale_values_[scale & 0x7F] * q.tensor_scale;
    });
  }

  void exact_row(const QuantizedTensor& q, std::int64_t r, ExactRow out) const override {
    const std::uint8_t* codes = q.row_elements(r);
    for (std::int64_t i = 0; i < q.padded_cols(); ++i) {
      out.integers[i] = static_cast<std::int64_t>(std::ldexp(element_values_[unpack_code(codes, i, 4)],
                                                             -elem_.quantum_exponent()));
    }
    const ScaleSpec scale{&spec::kUE4M3};
    const std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row();
    for (std::int64_t b = 0; b < q.blocks_per_row(); ++b) out.scales[b] = scale.exact(scales[b]);
  }

  int element_exponent() const override { return info_.element_exponent; }
  std::int64_t max_element_integer() const override { return int_elements_ ? 7 : 12; }

 private:
  float tensor_scale(MatrixView x) const {
    // Largest finite |x| from the bits (sign cleared, non-finite values dropped), a loop
    // the compiler vectorizes.
    std::int32_t amax_finite = 0;
    const std::int64_t count = x.rows * x.cols;
    constexpr std::int64_t kLine = 16;  // floats per 64-byte cache line
    for (std::int64_t line = 0; line < count; line += kLine) {
      __builtin_prefetch(x.data + line + 1024);
      for (std::int64_t i = line; i < std::min(line + kLine, count); ++i) {
        const auto b = static_cast<std::int32_t>(float_bits(x.data[i]) & 0x7FFFFFFFu);
        const std::int32_t finite = b < 0x7F800000 ? b : 0;
        amax_finite = finite > amax_finite ? finite : amax_finite;
      }
    }
    const float amax = bits_float(static_cast<std::uint32_t>(amax_finite));
    const float g = amax / (kE4M3Max * elem_max_);
    return g > 0 && std::isfinite(g) ? g : 1.0f;
  }

  void encode_block(const float* v, int n, float multiplier, std::uint8_t* codes) const {
    if (!int_elements_) {
      encode_e2m1_scaled(v, n, multiplier, rounding_, codes);
      return;
    }
    for (int i = 0; i < n; ++i) {
      codes[i] = static_cast<std::uint8_t>(round_to_int(v[i] * multiplier, -7, 7, rounding_) & 0xF);
    }
  }

  const ElementSpec& elem_;
  const std::array<float, 128> scale_values_ = [] {
    std::array<float, 128> values{};
    for (std::uint32_t c = 0; c < 128; ++c) values[c] = static_cast<float>(decode(spec::kUE4M3, c));
    return values;
  }();
  const std::array<float, 16> element_values_ = [this] {
    std::array<float, 16> values{};
    for (std::uint32_t c = 0; c < 16; ++c) values[c] = static_cast<float>(decode(elem_, c));
    return values;
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

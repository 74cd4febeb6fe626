#include "dpu_cosim.h"

#include "nibble/models/bits.h"
#include "nibble/models/element.h"
#include "nibble/models/error.h"

namespace nibble::rtl {

bool same_result(float rtl, float golden) {
  if (std::isnan(golden)) return std::isnan(rtl);  // NaN payloads are not part of the contract
  return std::bit_cast<std::uint32_t>(rtl) == std::bit_cast<std::uint32_t>(golden);
}

// Modes: 0-1 quantized random floats (magnitudes 2^-40..2^40), 2 raw finite codes with any
// scale code, 3 raw codes with extreme scales (the 12 smallest or largest finite codes:
// overflow to Inf, subnormal partials; 2% NaN), 4 cancellation (each odd block is the even
// block negated), 5 zeros, 6 accumulator ties (one element per block; with the same operand
// on both sides the partials run 2^24, 1, 1, 3, ... so that acc + partial lands halfway
// between two floats), 7 maxima (every element at the largest magnitude code, random signs),
// 8 repetition (each odd block repeats the even block: the B side of a cancellation pair).
QuantizedTensor random_operand(const BlockFormat& format, std::mt19937_64& rng, int mode) {
  // Cheap wide-range values: a uniform in [-1, 1) scaled by 2^-k, k in 0..15, one draw each
  // (vector generation, not the RTL, would otherwise bound the co-simulation rate).
  const int block = format.info().block;
  Matrix x(1, kSequence * block);
  const float magnitude = std::ldexp(1.0f, static_cast<int>(rng() % 81) - 40);
  for (float& v : x.data) {
    const std::uint64_t bits = rng();
    const float uniform = static_cast<float>(static_cast<std::int32_t>(bits)) * 0x1p-31f;
    v = mode == 5 ? 0.0f : uniform * exp2_int(-static_cast<int>((bits >> 32) & 15)) * magnitude;
  }
  if (mode == 6 || mode == 9) {
    static constexpr float kTiesA[kSequence] = {0x1p12f, 1, 1, 3, 0x1p12f, 1, 0, 1};
    static constexpr float kTiesB[kSequence] = {0x1p12f, 1, 1, 1, 0x1p12f, 2, 0, 1};
    std::fill(x.data.begin(), x.data.end(), 0.0f);
    for (int blk = 0; blk < kSequence; ++blk) {
      x.data[static_cast<size_t>(blk * block)] = mode == 6 ? kTiesA[blk] : kTiesB[blk];
    }
  }
  QuantizedTensor q = format.quantize(x);
  // BCQ codes are unsigned indices (any is valid) and its blocks carry selectors.
  const BcqParams* bcq = bcq_params(format);
  const ElementSpec& spec = bcq ? spec::kInt4 : element_spec(format.info().element);
  std::uint64_t pool = 0;
  int pool_bits = 0;
  const auto random_code = [&] {
    for (;;) {  // element codes from quantization are always finite
      if (pool_bits < spec.bits) {
        pool = rng();
        pool_bits = 64;
      }
      const auto c = static_cast<std::uint32_t>(pool & (spec.code_count() - 1));
      pool >>= spec.bits;
      pool_bits -= spec.bits;
      if (!spec.has_nan() || (c & spec.magnitude_mask()) <= spec.max_code()) return c;
    }
  };
  if (mode == 7) {  // largest magnitude, random signs (BCQ: the first or last entry)
    for (std::int64_t i = 0; i < q.padded_cols(); ++i) {
      const std::uint32_t code = bcq ? (rng() % 2 ? 15u : 0u)
                                     : spec.max_code() | (rng() % 2 ? spec.sign_bit() : 0u);
      pack_code(q.elements.data(), i, q.element_bits, spec.is_integer && !bcq && code == spec.max_code() &&
                                                          rng() % 2 ? spec.sign_bit() : code);
    }
  }
  if (mode == 2 || mode == 3) {
    for (std::int64_t i = 0; i < q.padded_cols(); ++i) pack_code(q.elements.data(), i, q.element_bits, random_code());
    if (bcq && bcq->selector_bits()) {
      const int selectors = bcq->array / bcq->block;
      for (std::int64_t blk = 0; blk < q.blocks_per_row(); ++blk) {
        for (int j = 0; j < selectors; ++j) {
          pack_code(q.aux.data() + blk * q.aux_bytes, j, bcq->selector_bits(),
                    static_cast<std::uint32_t>(rng() % static_cast<std::uint64_t>(bcq->codebooks)));
        }
      }
    }
    const ScaleSpec scale = scale_spec(format.info().scale);
    if (!scale.spec) throw Error("raw scale stimulus needs an element-coded scale, not FP32");
    const std::uint32_t codes = scale.spec->code_count(), top = scale.spec->max_code();
    for (std::int64_t blk = 0; blk < q.blocks_per_row(); ++blk) {
      const auto r = static_cast<std::uint32_t>(rng());
      std::uint32_t code = r % codes;
      if (mode == 3) {
        code = r % 50 == 0 ? scale.nan_code() : (r >> 8) % 2 ? (r >> 9) % 12 : top - (r >> 9) % 12;
      }
      store_scale(q.scales.data() + blk * q.scale_bytes, q.scale_bytes, code);
    }
  }
  if ((mode == 4 && !bcq) || mode == 8) {
    // Block 2k+1 = -(block 2k): flip sign bits (two's complement for INTn); or a copy.
    for (int blk = 1; blk < kSequence; blk += 2) {
      for (int i = 0; i < block; ++i) {
        const std::uint32_t c = unpack_code(q.elements.data(), (blk - 1) * block + i, q.element_bits);
        const std::uint32_t neg = spec.is_integer ? (0u - c) & (spec.code_count() - 1)
                                                  : c ^ spec.sign_bit();
        const bool keep = mode == 8 || (spec.is_integer && c == spec.sign_bit());  // -128 stays
        pack_code(q.elements.data(), blk * block + i, q.element_bits, keep ? c : neg);
      }
      if (q.aux_bytes > 0) {  // formats without side data have no aux buffer (a null pointer)
        std::memcpy(q.aux.data() + blk * q.aux_bytes, q.aux.data() + (blk - 1) * q.aux_bytes,
                    static_cast<size_t>(q.aux_bytes));
      }
      std::memcpy(q.scales.data() + blk * q.scale_bytes, q.scales.data() + (blk - 1) * q.scale_bytes,
                  static_cast<size_t>(q.scale_bytes));
    }
  }
  return q;
}

namespace {

ExactOperand read_as(const QuantizedTensor& q, const BlockFormat& golden) {
  if (q.format.get() == &golden) return ExactOperand(q);
  QuantizedTensor reread = q;
  reread.format = golden.shared_from_this();
  return ExactOperand(reread);
}

}  // namespace

Stimulus make_stimulus(const BlockFormat& fa, const BlockFormat& fb, const BlockFormat& golden_a,
                       const BlockFormat& golden_b, std::mt19937_64& rng) {
  const int mode = static_cast<int>(rng() % 8);
  QuantizedTensor a = random_operand(fa, rng, mode);
  QuantizedTensor b = random_operand(fb, rng, mode == 4 ? 8 : mode == 5 ? 0 : mode == 6 ? 9 : mode);
  ExactOperand ea = read_as(a, golden_a), eb = read_as(b, golden_b);
  return {std::move(a), std::move(b), std::move(ea), std::move(eb), mode};
}

std::shared_ptr<const BlockFormat> golden_format(const std::shared_ptr<const BlockFormat>& unit_format,
                                                 const std::string& name) {
  if (name.empty()) return unit_format;
  std::shared_ptr<const BlockFormat> golden = make_format(name);
  const FormatInfo &u = unit_format->info(), &g = golden->info();
  if (u.element_bits != g.element_bits || u.block != g.block || u.scale_bits != g.scale_bits ||
      u.side_bits_per_block != g.side_bits_per_block || u.tensor_scale != g.tensor_scale ||
      u.bcq || g.bcq) {
    throw Error("golden format '" + g.name + "' does not store blocks as the unit's '" + u.name +
                "' does (element bits, block, scale bits, side bits and tensor scale must match; "
                "BCQ has codebooks)");
  }
  if (!golden->supports_dot()) throw Error("golden format '" + g.name + "' has no golden dot product");
  return golden;
}

}  // namespace nibble::rtl

#pragma once
// Vector kernels of the quantizers and dequantizers (fast_paths.cpp, Highway with runtime
// dispatch). Each call covers a run of whole blocks (kRunElements values, or one block if a
// block is longer), so the indirect call of the dispatch is paid per run, never per block.
// Every kernel is exact: it gives the codes and values the generic engine of element.cpp
// (encode, decode, round_to_int) gives element by element; tests check that on every target.
//
// A run is quantized in three passes: block statistics (the pass that streams from DRAM),
// the block scales (scalar, in the format's own file), then element encode and pack while
// the run is still in L1.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "nibble/models/bits.h"
#include "nibble/models/element.h"
#include "nibble/models/scale.h"
#include "nibble/models/tensor.h"

namespace nibble {

// Values per run: 16 KiB of float32, so that the second pass reads from L1.
inline constexpr std::int64_t kRunElements = 4096;

// Largest |x[i]| as FP32 bits, for callers that need one block at a time (BCQ): NaN and Inf
// compare above every finite value, so the result is >= 0x7F800000 exactly when the block
// holds a non-finite value. With the sign bit cleared the bits compare as signed integers.
inline std::uint32_t amax_bits(const float* x, int n) {
  std::int32_t m = 0;
  for (int i = 0; i < n; ++i) {
    const auto b = static_cast<std::int32_t>(float_bits(x[i]) & 0x7FFFFFFFu);
    m = b > m ? b : m;
  }
  return static_cast<std::uint32_t>(m);
}

// amax[j] = amax_bits of block j, for `blocks` whole blocks of `block` values.
void block_amax_bits(const float* x, std::int64_t blocks, int block, std::uint32_t* amax);
// pos[j] = bits of max(0, max x) and neg[j] = bits of max(0, max -x) over block j; either is
// >= 0x7F800000 exactly when the block holds NaN or Inf.
void block_side_max_bits(const float* x, std::int64_t blocks, int block, std::uint32_t* pos,
                         std::uint32_t* neg);
// Largest finite |x[i]| over n values, as FP32 bits.
std::uint32_t finite_amax_bits(const float* x, std::int64_t n);

// codes[i] = encode(s, x[i], rounding) (saturating) and out[i] = decode(s, codes[i]) as float,
// for integer specs and float specs with subnormals (every element and scale spec but E8M0).
void encode_array(const ElementSpec& s, Rounding rounding, const float* x, std::int64_t n,
                  std::uint32_t* codes);
void decode_array(const ElementSpec& s, const std::uint32_t* codes, std::int64_t n, float* out);

// ScaleSpec::encode_positive over n block scales, with the values of the codes.
void encode_positive_scales(const ScaleSpec& scale, const float* s, std::int64_t n,
                            std::uint32_t* codes, float* values);
// Reads n stored scales (scale.bytes() each, from `stored`) into codes and their values.
void read_scales(const ScaleSpec& scale, const std::uint8_t* stored, std::int64_t n,
                 std::uint32_t* codes, float* values);

// How a block's values become element inputs: x * factor, x / factor, or x divided by the
// factor of its sign (AFPQ's two scales).
enum class ScaleOp { kMultiply, kDivide, kDivideBySign };

// One element rule: the input is scaled by the block factor, then (integer elements) by
// `unit` (MXINT8's 2^6), then encoded: float specs as encode(spec, v, rounding); integer specs as
// round_to_int(v, int_lo, int_hi, rounding), plus the block's zero point and clamped to
// [0, 2^bits - 1] when zero points are given, else masked to `bits` bits.
struct ElementRule {
  const ElementSpec* spec = nullptr;
  Rounding rounding = Rounding::kNearestEven;
  std::int32_t int_lo = 0, int_hi = 0;
  float unit = 1.0f;
  ScaleOp op = ScaleOp::kMultiply;
};

// A run of whole blocks and its per-block data (factor_neg and zero_point may be null).
struct EncodeRun {
  const float* x;
  std::int64_t blocks;
  int block;
  const float* factor;
  const float* factor_neg;
  const std::uint8_t* zero_point;
  const std::uint8_t* skip;  // per block: 1 where the codes stay 0 (the scale is the NaN code)
  std::uint8_t* stream;      // the row's packed element stream ...
  std::int64_t first;        // ... and the element index of the run's first value in it
  std::uint8_t* scratch;     // blocks * block bytes for the unpacked codes
};
void encode_blocks(const ElementRule& rule, const EncodeRun& run);

// The inverse: out = decode(code) [- zero point] * unit * factor [* tensor_scale], the
// factor of the code's sign where factor_neg is given (AFPQ). At most one of tensor_scale,
// zero_point and factor_neg is given (no format has two).
struct DecodeRun {
  const std::uint8_t* stream;
  std::int64_t first;
  std::int64_t blocks;
  int block;
  const float* factor;
  const float* factor_neg;
  const std::uint8_t* zero_point;
  std::uint8_t* scratch;
  float* out;
  // Where set (blocks * block floats), the values are decoded there and stored to `out` with
  // non-temporal stores (see streaming_output).
  float* staging;
};

// Outputs from this size up go to memory with non-temporal stores: they are beyond the
// private caches, and a store that misses would first read its line from DRAM.
inline bool streaming_output(const QuantizedTensor& q) {
  return q.rows * q.cols >= (std::int64_t{16} << 20) / 4;  // 16 MiB of float32
}
void decode_blocks(const ElementSpec& spec, float unit, const float* tensor_scale,
                   const DecodeRun& run);

// Per-run buffers of the quantizers and dequantizers, allocated once per call and sized for
// the longest run of a row: a full run would allocate and zero some 25 KB per call even for a
// row of one block.
struct RunScratch {
  RunScratch(int block, std::int64_t blocks_per_row)
      : blocks(std::clamp<std::int64_t>(blocks_per_row, 1, std::max<std::int64_t>(1, kRunElements / block))),
        stats(size(1)),
        stats_neg(size(1)),
        scale_codes(size(1)),
        scale_codes_neg(size(1)),
        scale_in(size(1)),
        scale_in_neg(size(1)),
        factor(size(1)),
        factor_neg(size(1)),
        zero_point(size(1)),
        skip(size(1)),
        codes(size(block)),
        values(size(block)) {}
  std::int64_t blocks;  // blocks per run
  std::vector<std::uint32_t> stats, stats_neg, scale_codes, scale_codes_neg;
  std::vector<float> scale_in, scale_in_neg, factor, factor_neg;
  std::vector<std::uint8_t> zero_point, skip, codes;
  std::vector<float> values;  // the staging area of DecodeRun

 private:
  size_t size(int per_block) const { return static_cast<size_t>(blocks * per_block); }
};

// Walks x in runs of whole blocks: run(values, row, first_block, blocks). The partial last
// block of a row comes as a zero-padded copy (zeros change no block statistic and encode to
// the padding codes).
template <typename Run>
void quantize_runs(MatrixView x, int block, Run&& run) {
  const std::int64_t full = x.cols / block;
  const std::int64_t per_run = std::max<std::int64_t>(1, kRunElements / block);
  const std::int64_t rest = x.cols - full * block;
  std::vector<float> tail(static_cast<size_t>(rest ? block : 0), 0.0f);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t b = 0; b < full; b += per_run) {
      run(x.row(r) + b * block, r, b, std::min(per_run, full - b));
    }
    if (rest) {
      std::copy(x.row(r) + full * block, x.row(r) + x.cols, tail.begin());
      run(tail.data(), r, full, std::int64_t{1});
    }
  }
}

// The same walk for dequantize: run(out, row, first_block, blocks) writes blocks * block
// values; the partial last block is written to a buffer and cut to the row.
template <typename Run>
void dequantize_runs(const QuantizedTensor& q, float* out, Run&& run) {
  const int block = q.block;
  const std::int64_t full = q.cols / block;
  const std::int64_t per_run = std::max<std::int64_t>(1, kRunElements / block);
  const std::int64_t rest = q.cols - full * block;
  std::vector<float> tail(static_cast<size_t>(rest ? block : 0));
  for (std::int64_t r = 0; r < q.rows; ++r) {
    float* row = out + r * q.cols;
    for (std::int64_t b = 0; b < full; b += per_run) {
      run(row + b * block, r, b, std::min(per_run, full - b));
    }
    if (rest) {
      run(tail.data(), r, full, std::int64_t{1});
      std::copy(tail.begin(), tail.begin() + rest, row + full * block);
    }
  }
}

}  // namespace nibble

#pragma once
// A block format pairs an element spec with a scale: each row is cut into blocks that share
// one scale (MX: E8M0 power of two; NVFP4: UE4M3 times a per-tensor FP32 factor; integer
// groups: FP16). Formats are built by name through the registry (registry.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nibble/models/bcq_params.h"
#include "nibble/models/tensor.h"

namespace nibble {

// What a format is and how it is stored: the one description the simulator's byte counts,
// the energy and area lookups, the kernels and the evaluation read (nobody parses a name).
struct FormatInfo {
  std::string name;            // canonical name, options included (e.g. "mxfp4:scale=rceil")
  std::string family;          // the format file: "mx", "nv", "int_group", "afpq", "bcq"
  std::string element;         // element spec name ("e2m1", "int4", ...; BCQ: its entry grid)
  int element_bits = 0;        // stored bits of one element code (BCQ: of one index)
  int element_exponent = 0;    // every element is an integer times 2^element_exponent
  int block = 0;               // elements per scale
  std::string scale;           // scale spec name ("e8m0", "ue4m3", "fp16", ...)
  int scale_bits = 0;          // one block scale as stored
  int side_bits_per_block = 0; // zero point, second scale or BCQ selectors, per block
  bool tensor_scale = false;   // an FP32 scale per tensor (NVFP4, NVINT4, BCQ with UE4M3)
  std::int64_t codebook_bits = 0;  // per-tensor codebook storage (BCQ), 0 else
  std::optional<BcqParams> bcq;    // BCQ's parameters
  // Storage per element with the block scale and side data, as the format's paper counts it
  // (BCQ: log2(N_c) selector bits per block even where N_c is not a power of two).
  double bits_per_element = 0;
};

// A block scale as an exact binary number: mantissa * 2^exponent (or NaN).
struct ExactScale {
  std::int64_t mantissa = 0;
  int exponent = 0;
  bool nan = false;
};

// The exact content of one quantized row, as the golden dot product multiplies it:
//   value[i] = integers[i] * 2^element_exponent * scales[i / block]   (then * tensor_scale)
// integers has padded_cols entries (the tail of a partial block is zero).
struct ExactRow {
  std::int64_t* integers;
  ExactScale* scales;
};

class BlockFormat : public std::enable_shared_from_this<BlockFormat> {
 public:
  virtual ~BlockFormat() = default;
  const FormatInfo& info() const { return info_; }

  // Quantizes every row of x. Throws nibble::Error for an empty matrix.
  virtual QuantizedTensor quantize(MatrixView x) const = 0;

  // Dequantizes into out[rows * cols] (float32, row-major).
  virtual void dequantize(const QuantizedTensor& q, float* out) const;
  Matrix dequantize(const QuantizedTensor& q) const;

  // Whether the golden dot product can consume this format (one scale product per block).
  virtual bool supports_dot() const { return true; }
  // Golden-dot view of row r of q (see ExactRow).
  virtual void exact_row(const QuantizedTensor& q, std::int64_t r, ExactRow out) const = 0;
  // Every element is an integer times 2^element_exponent() ...
  virtual int element_exponent() const = 0;
  // ... whose magnitude never exceeds max_element_integer().
  virtual std::int64_t max_element_integer() const = 0;

 protected:
  QuantizedTensor make_tensor(MatrixView x, int scale_bytes, int aux_bytes) const;
  FormatInfo info_;
};

// Fake quantization: x quantized and dequantized again; a null format returns a copy of x.
Matrix fake_quantize(const BlockFormat* format, MatrixView x);

// Converts exact integers and scales back to float: round(int * 2^e * scale) then * tensor_scale.
float exact_value(std::int64_t integer, int element_exponent, const ExactScale& scale,
                  float tensor_scale);

}  // namespace nibble

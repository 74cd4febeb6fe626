#pragma once
// Dense float32 matrices and their quantized, packed counterparts.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nibble/models/checked.h"

namespace nibble {

class BlockFormat;

// A row-major float32 matrix. Every quantizer works along the last axis: each row is an
// independent vector (the reduction axis of a GEMM operand).
struct Matrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<float> data;

  Matrix() = default;
  Matrix(std::int64_t r, std::int64_t c) : rows(r), cols(c), data(element_count(r, c)) {}
  float* row(std::int64_t r) { return data.data() + r * cols; }
  const float* row(std::int64_t r) const { return data.data() + r * cols; }

 private:
  static size_t element_count(std::int64_t r, std::int64_t c) {
    if (r < 0 || c < 0) {
      throw Error("matrix shape " + std::to_string(r) + " x " + std::to_string(c) + " is negative");
    }
    return static_cast<size_t>(checked_mul(r, c, "matrix rows x cols"));
  }
};

// Read-only view of a row-major float32 matrix owned elsewhere.
struct MatrixView {
  const float* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;

  MatrixView() = default;
  MatrixView(const float* d, std::int64_t r, std::int64_t c) : data(d), rows(r), cols(c) {}
  MatrixView(const Matrix& m) : data(m.data.data()), rows(m.rows), cols(m.cols) {}  // NOLINT
  const float* row(std::int64_t r) const { return data + r * cols; }
};

// A quantized matrix in the layout hardware holds it.
//
// Each row of `cols` values is cut into blocks of `block` elements; a row whose length is not
// a multiple of the block ends in a partial block, stored zero-padded to a whole block (zeros
// change neither the block's amax nor any dot product) and dropped again on dequantize.
//  - elements: element codes, `element_bits` wide, packed LSB-first per row; for 4-bit codes
//    element 2i is the low nibble of byte i. Each row starts on a byte boundary.
//  - scales: one scale code per block, `scale_bytes` little-endian bytes each, row-major.
//  - aux: per-block side data some formats add (zero points, second scales, selectors),
//    `aux_bytes` per block.
//  - tensor_scale: a per-tensor FP32 factor (NVFP4's g); 1 for formats without one.
struct QuantizedTensor {
  std::shared_ptr<const BlockFormat> format;  // the format that produced it
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  int block = 0;
  int element_bits = 0;
  int scale_bytes = 0;
  int aux_bytes = 0;
  float tensor_scale = 1.0f;
  std::vector<std::uint8_t> elements;
  std::vector<std::uint8_t> scales;
  std::vector<std::uint8_t> aux;

  std::int64_t blocks_per_row() const { return (cols + block - 1) / block; }
  std::int64_t padded_cols() const { return blocks_per_row() * block; }
  std::int64_t row_bytes() const { return (padded_cols() * element_bits + 7) / 8; }
  std::uint8_t* row_elements(std::int64_t r) { return elements.data() + r * row_bytes(); }
  const std::uint8_t* row_elements(std::int64_t r) const {
    return elements.data() + r * row_bytes();
  }
  // Total storage in bytes (elements, scales, side data and the tensor scale if any).
  std::size_t storage_bytes() const;
};

// Reads and writes codes of `bits` (1..16) width in an LSB-first packed byte stream. Reading
// is inline, with 4- and 8-bit shortcuts: the formats' exact_row loops (the golden GEMM's
// decoding) call it for every element.
inline std::uint32_t unpack_code(const std::uint8_t* stream, std::int64_t index, int bits) {
  if (bits == 4) return (stream[index / 2] >> (index % 2 * 4)) & 0xFu;
  if (bits == 8) return stream[index];
  const std::int64_t bit = index * bits;
  const std::uint8_t* p = stream + bit / 8;
  const int shift = static_cast<int>(bit % 8);
  std::uint32_t window = 0;
  for (int i = 0, n = (shift + bits + 7) / 8; i < n; ++i) window |= std::uint32_t{p[i]} << (8 * i);
  return (window >> shift) & ((1u << bits) - 1);
}
void pack_code(std::uint8_t* stream, std::int64_t index, int bits, std::uint32_t code);
// Packs n one-byte codes starting at element `first`; fast (and inline, so the quantizers'
// loops vectorize it) for 4- and 8-bit codes.
inline void pack_codes(std::uint8_t* stream, std::int64_t first, const std::uint8_t* codes, int n,
                int bits) {
  if (bits == 8) {
    for (int i = 0; i < n; ++i) stream[first + i] = codes[i];
  } else if (bits == 4 && first % 2 == 0) {
    std::uint8_t* out = stream + first / 2;
    for (int i = 0; i + 1 < n; i += 2) {
      out[i / 2] = static_cast<std::uint8_t>(codes[i] | (codes[i + 1] << 4));
    }
    if (n % 2) out[n / 2] = static_cast<std::uint8_t>((out[n / 2] & 0xF0) | codes[n - 1]);
  } else {
    for (int i = 0; i < n; ++i) pack_code(stream, first + i, bits, codes[i]);
  }
}

}  // namespace nibble

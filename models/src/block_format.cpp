#include "nibble/models/block_format.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "nibble/models/error.h"

namespace nibble {

float exact_value(std::int64_t integer, int element_exponent, const ExactScale& scale,
                  float tensor_scale) {
  if (scale.nan) return std::numeric_limits<float>::quiet_NaN();
  // integer * mantissa stays below 2^53 for every format nibble defines, so the double is
  // exact and the conversion to float is the single rounding.
  const double v = std::ldexp(static_cast<double>(integer) * static_cast<double>(scale.mantissa),
                              element_exponent + scale.exponent);
  return static_cast<float>(v) * tensor_scale;
}

void BlockFormat::dequantize(const QuantizedTensor& q, float* out) const {
  std::vector<std::int64_t> integers(static_cast<size_t>(q.padded_cols()));
  std::vector<ExactScale> scales(static_cast<size_t>(q.blocks_per_row()));
  const int e = element_exponent();
  for (std::int64_t r = 0; r < q.rows; ++r) {
    exact_row(q, r, {integers.data(), scales.data()});
    float* row = out + r * q.cols;
    for (std::int64_t c = 0; c < q.cols; ++c) {
      row[c] = exact_value(integers[c], e, scales[c / q.block], q.tensor_scale);
    }
  }
}

Matrix BlockFormat::dequantize(const QuantizedTensor& q) const {
  Matrix m(q.rows, q.cols);
  dequantize(q, m.data.data());
  return m;
}

QuantizedTensor BlockFormat::make_tensor(MatrixView x, int scale_bytes, int aux_bytes) const {
  if (x.rows <= 0 || x.cols <= 0) {
    throw Error("cannot quantize an empty matrix (" + std::to_string(x.rows) + " x " +
                std::to_string(x.cols) + ")");
  }
  QuantizedTensor q;
  q.format = shared_from_this();
  q.rows = x.rows;
  q.cols = x.cols;
  q.block = info_.block;
  q.element_bits = info_.element_bits;
  q.scale_bytes = scale_bytes;
  q.aux_bytes = aux_bytes;
  q.elements.assign(static_cast<size_t>(q.rows * q.row_bytes()), 0);
  q.scales.assign(static_cast<size_t>(q.rows * q.blocks_per_row() * scale_bytes), 0);
  q.aux.assign(static_cast<size_t>(q.rows * q.blocks_per_row() * aux_bytes), 0);
  return q;
}

Matrix fake_quantize(const BlockFormat* format, MatrixView x) {
  if (format) return format->dequantize(format->quantize(x));
  Matrix m(x.rows, x.cols);
  std::copy(x.data, x.data + x.rows * x.cols, m.data.begin());
  return m;
}

}  // namespace nibble

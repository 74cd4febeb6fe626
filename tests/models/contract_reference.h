#pragma once
// The golden dot contract evaluated independently, for tests of the dot product and of the
// formats that feed it.
#include <cmath>
#include <limits>
#include <vector>

#include "nibble/models/block_format.h"

namespace nibble {

// The contract, evaluated from exact element values: partial_j summed in long double (exact
// for the operands used with it: every product has <= 64 significant bits and a block's
// products share a small exponent range), rounded once to float, accumulated in float in K
// order, then multiplied by the tensor scales.
inline float reference_dot(const QuantizedTensor& a, std::int64_t ra, const QuantizedTensor& b,
                           std::int64_t rb) {
  const auto exact_values = [](const QuantizedTensor& q, std::int64_t r) {
    std::vector<std::int64_t> ints(static_cast<size_t>(q.padded_cols()));
    std::vector<ExactScale> scales(static_cast<size_t>(q.blocks_per_row()));
    q.format->exact_row(q, r, {ints.data(), scales.data()});
    std::vector<long double> v(ints.size());
    for (size_t i = 0; i < ints.size(); ++i) {
      const ExactScale& s = scales[i / static_cast<size_t>(q.block)];
      v[i] = s.nan ? std::numeric_limits<long double>::quiet_NaN()
                   : std::ldexp(static_cast<long double>(ints[i]) * s.mantissa,
                                s.exponent + q.format->element_exponent());
    }
    return v;
  };
  const auto va = exact_values(a, ra), vb = exact_values(b, rb);
  float acc = 0;
  for (std::int64_t j = 0; j < a.blocks_per_row(); ++j) {
    long double partial = 0;
    for (int i = 0; i < a.block; ++i) partial += va[j * a.block + i] * vb[j * a.block + i];
    acc += static_cast<float>(partial);
  }
  return acc * a.tensor_scale * b.tensor_scale;
}

}  // namespace nibble

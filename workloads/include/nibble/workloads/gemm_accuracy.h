#pragma once
// GEMM-output accuracy, the W4A4 metric: Y = X W^T with both operands fake-quantized (each
// along K, per row), multiplied in FP32 by OpenBLAS, against X W^T in FP64.
#include <string>

#include "nibble/models/block_format.h"
#include "nibble/models/kv_format.h"
#include "nibble/models/transform.h"
#include "nibble/models/tensor.h"

namespace nibble {

struct GemmError {
  double snr_db = 0;  // 10 log10(sum Y64^2 / sum (Y - Y64)^2); +inf when equal
  double mse = 0;
  double max_abs_error = 0;
};

// x [M, K], w [N, K]; a nullptr format leaves that operand in FP32. With a fitted transform
// the quantized operands are X' and W' and its bias is added: Q(X') Q(W')^T + b' vs X W^T.
// Throws nibble::Error when the K dimensions differ. NaN anywhere makes every figure NaN.
GemmError gemm_error(MatrixView x, MatrixView w, const BlockFormat* x_format,
                     const BlockFormat* w_format, const FittedTransform* transform = nullptr);

// A KV-cache format's error where it matters, on the attention output: causal
// softmax(Q K^T / sqrt(d)) V through a cache in `kv` (lm.h, cached_attention) against the same
// with an FP32 cache. q [T, n_heads * d], k and v [T, n_kv_heads * d], keys after RoPE (as
// `nibble lm --dump-activations` writes them).
GemmError attention_error(const Matrix& q, const Matrix& k, const Matrix& v, int n_heads,
                          int n_kv_heads, const KvFormat& kv);

}  // namespace nibble

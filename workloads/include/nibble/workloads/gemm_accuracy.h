#pragma once
// GEMM-output accuracy, the W4A4 metric: Y = X W^T with both operands quantized (each along
// K, per row), against X W^T in FP64.
//
// Two ways to form Y. kBlas (the default, fast): fake quantization, i.e. both operands
// quantized and dequantized, multiplied in FP32 by OpenBLAS. kGolden: the golden GEMM of the
// quantized operands (dot.h), the arithmetic of the hardware. The products of dequantized
// values are the same in both; only the FP32 summation differs (OpenBLAS's order against one
// rounding per block partial and per accumulation), so per output |Y_blas - Y_golden| <=
// (K + blocks + 2) 2^-24 sum_k |x_k w_k| (tests/workloads/gemm_accuracy_test.cpp), far below
// any 4-bit format's quantization error.
#include <string>
#include <string_view>

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

enum class GemmEngine { kBlas, kGolden };
GemmEngine gemm_engine_from_name(std::string_view name);  // "blas" | "golden"

// x [M, K], w [N, K]; a nullptr format leaves that operand in FP32 (kBlas only). With a fitted
// transform the quantized operands are X' and W' and its bias is added: Q(X') Q(W')^T + b' vs
// X W^T. Throws nibble::Error when the K dimensions differ, and for kGolden when an operand
// has no format or its format no golden dot (or the two differ in block size). NaN anywhere
// makes every figure NaN.
GemmError gemm_error(MatrixView x, MatrixView w, const BlockFormat* x_format,
                     const BlockFormat* w_format, const FittedTransform* transform = nullptr,
                     GemmEngine engine = GemmEngine::kBlas);

// Y = Q(x) Q(w)^T by `engine` (see above), before any transform bias.
Matrix quantized_product(MatrixView x, MatrixView w, const BlockFormat* x_format,
                         const BlockFormat* w_format, GemmEngine engine);

// A KV-cache format's error where it matters, on the attention output: causal
// softmax(Q K^T / sqrt(d)) V through a cache in `kv` (lm.h, cached_attention) against the same
// with an FP32 cache. q [T, n_heads * d], k and v [T, n_kv_heads * d], keys after RoPE (as
// `nibble lm --dump-activations` writes them).
GemmError attention_error(const Matrix& q, const Matrix& k, const Matrix& v, int n_heads,
                          int n_kv_heads, const KvFormat& kv);

}  // namespace nibble

#pragma once
// Dense GEMMs through OpenBLAS's C API, for fake-quantized FP32 arithmetic (dequantized
// operands multiplied in FP32) and its FP64 reference. These are not the golden GEMM (dot.h):
// OpenBLAS sums in its own order, so results agree with golden_gemm only within a rounding
// bound (tested). OpenBLAS's own threads are switched off: callers parallelize above it, and
// a single-threaded sgemm gives the same bits whatever nibble's thread count.
#include <cstdint>
#include <string>
#include <vector>

#include "nibble/models/tensor.h"

namespace nibble {

// C[M, N] = A[M, K] B[N, K]^T (both row-major, the layout of activations and [out, in] weights).
Matrix matmul_nt(MatrixView a, MatrixView b);

// The same in FP64 (inputs widened exactly): the reference for GEMM-output SNR.
std::vector<double> matmul_nt_f64(MatrixView a, MatrixView b);

// Strided FP32 GEMM for sub-matrices (attention heads): C = alpha op(A) op(B) + beta C, all
// row-major with leading dimensions lda, ldb, ldc; op transposes when the flag is set.
void sgemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
           float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
           float beta, float* c, std::int64_t ldc);

// OpenBLAS's version, build options and the kernels it chose for this CPU at load time
// (DYNAMIC_ARCH; OPENBLAS_CORETYPE overrides the choice). FP32 sums follow the kernels' order,
// so a result that depends on them, such as a W4A4 perplexity, can change in its last digits
// with the kernels: results name them, so that they can be reproduced.
std::string blas_configuration();

}  // namespace nibble

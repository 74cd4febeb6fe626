#pragma once
// GEMM-output accuracy, the W4A4 metric: Y = X W^T with both operands fake-quantized (each
// along K, per row), multiplied in FP32 by OpenBLAS, against X W^T in FP64.
#include <string>

#include "nibble/models/block_format.h"
#include "nibble/models/tensor.h"

namespace nibble {

struct GemmError {
  double snr_db = 0;  // 10 log10(sum Y64^2 / sum (Y - Y64)^2); +inf when equal
  double mse = 0;
  double max_abs_error = 0;
};

// x [M, K], w [N, K]; a nullptr format leaves that operand in FP32. Throws nibble::Error when
// the K dimensions differ. NaN anywhere makes every figure NaN.
GemmError gemm_error(MatrixView x, MatrixView w, const BlockFormat* x_format,
                     const BlockFormat* w_format);

}  // namespace nibble

#pragma once
// The golden GEMM's vector path (FP32 accumulator): the same numbers as the scalar path, bit
// for bit, where bounds prove that every step is exact (vector_gemm.cpp says which).
#include <optional>

#include "nibble/models/dot.h"

namespace nibble::gemm {

// Which vector kernel a pair takes: block sums in int32 lanes from int16 elements, or in
// double lanes; kNone sends the pair to the scalar path.
enum class Kernel { kNone, kInt16, kDouble };
Kernel vector_kernel(const ExactOperand& a, const ExactOperand& b);

// Whether the dispatched SIMD target has the kernels (not the one-lane and scalable targets).
bool vector_kernels_available();

// C = A B^T through the vector kernel on the dispatched SIMD target, or nothing where the
// pair has no vector kernel (or the target cannot run one). The pair must have equal lengths
// and blocks (golden_gemm checks).
std::optional<Matrix> vector_golden_gemm(const ExactOperand& a, const ExactOperand& b,
                                         int threads);
// The same from quantized tensors, each row decoded by its format straight into the kernel's
// layout (no ExactOperand); their formats must support the dot.
std::optional<Matrix> vector_golden_gemm(const QuantizedTensor& a, const QuantizedTensor& b,
                                         int threads);

// The scalar golden GEMM: golden_dot for every element (dot.cpp). It is the fallback of the
// vector path and, in tests, its reference.
Matrix scalar_golden_gemm(const ExactOperand& a, const ExactOperand& b, Accumulator accumulator,
                          int threads);

}  // namespace nibble::gemm

#pragma once
// The golden dot product and GEMM: what every hardware unit, simulator and kernel computes.
//
// For two quantized rows cut into the same K-blocks (DESIGN.md, "The golden dot product"):
//   partial_j = S_A,j * S_B,j * sum_{i in block j} dec(a_i) * dec(b_i)      exact
//   acc       = fp32_add_rne(acc, fp32_rne(partial_j))                      in K order, acc = +0
//   y         = (acc * g_A) * g_B                                           fp32, rne
// The element formats may differ (MXFP8 x MXFP4); the block sizes must match. With the
// exact accumulator the partials are summed without rounding and rounded to FP32 once.
// A NaN scale makes its partial, and so y, NaN; a partial or sum beyond FP32 is +-Inf.
#include <cstdint>
#include <string_view>
#include <vector>

#include "nibble/models/block_format.h"
#include "nibble/models/tensor.h"

namespace nibble {

enum class Accumulator { kFp32, kExact };
Accumulator accumulator_from_name(std::string_view name);  // "fp32" | "exact"

// Rounds (negative ? -1 : 1) * (magnitude + sticky * tiny) * 2^exponent to the nearest FP32,
// ties to even, with subnormals and overflow to Inf. `sticky` says that non-zero bits lie
// below the magnitude's last bit (they break ties upward).
float round_to_fp32(unsigned __int128 magnitude, int exponent, bool negative,
                    bool sticky = false);
float round_to_fp32(__int128 value, int exponent);

// A quantized tensor decoded once into its exact integers and block scales, for many dots.
class ExactOperand {
 public:
  // Decodes the rows on `threads` threads (0: every core).
  explicit ExactOperand(const QuantizedTensor& q, int threads = 1);

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  int block() const { return block_; }
  std::int64_t blocks_per_row() const { return blocks_; }
  int element_exponent() const { return element_exponent_; }
  std::int64_t max_element_integer() const { return max_integer_; }
  float tensor_scale() const { return tensor_scale_; }
  bool wide() const { return !wide_.empty(); }  // integers beyond int32 (E5M2)

  const std::int32_t* narrow_row(std::int64_t r) const { return narrow_.data() + r * padded_; }
  const std::int64_t* wide_row(std::int64_t r) const { return wide_.data() + r * padded_; }
  const ExactScale* scales_row(std::int64_t r) const { return scales_.data() + r * blocks_; }
  // Converts a narrow operand to wide storage (for pairing with a wide one).
  void widen();

 private:
  std::int64_t rows_, cols_, padded_, blocks_;
  int block_, element_exponent_;
  std::int64_t max_integer_;
  float tensor_scale_;
  std::vector<std::int32_t> narrow_;
  std::vector<std::int64_t> wide_;
  std::vector<ExactScale> scales_;
};

// Readies a pair for many golden_dot calls: checks it, and widens both operands once when
// their products need 128-bit sums (mxfp8_e5m2 with a narrow format), which golden_dot would
// otherwise do on copies of both operands at every call.
void prepare_dot_pair(ExactOperand& a, ExactOperand& b);

float golden_dot(const ExactOperand& a, std::int64_t row_a, const ExactOperand& b,
                 std::int64_t row_b, Accumulator accumulator = Accumulator::kFp32);
float golden_dot(const QuantizedTensor& a, std::int64_t row_a, const QuantizedTensor& b,
                 std::int64_t row_b, Accumulator accumulator = Accumulator::kFp32);

// The FP32 accumulator after every K-block of golden_dot, before the tensor scales: what the
// accumulator register of a dot-product unit holds after each block it consumes.
std::vector<float> golden_accumulator_trace(const ExactOperand& a, std::int64_t row_a,
                                            const ExactOperand& b, std::int64_t row_b);

// C[M, N] = A[M, K] * B[N, K]^T, each element a golden dot; `threads` = 0 uses every core.
// The result does not depend on the thread count. With the FP32 accumulator, pairs whose
// block partials provably fit a double exactly (all but mxfp8_e5m2 x mxfp8_e5m2 or x E4M3,
// and FP32 block scales) run on SIMD kernels (models/src/gemm/), bit for bit the same.
Matrix golden_gemm(const QuantizedTensor& a, const QuantizedTensor& b,
                   Accumulator accumulator = Accumulator::kFp32, int threads = 0);
// The same on operands decoded once, for callers that multiply one tensor many times.
Matrix golden_gemm(const ExactOperand& a, const ExactOperand& b,
                   Accumulator accumulator = Accumulator::kFp32, int threads = 0);

}  // namespace nibble

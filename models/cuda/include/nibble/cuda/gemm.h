#pragma once
// W4A4 GEMM on NVIDIA GPUs: C[M, N] = A[M, K] B[N, K]^T with activations A and weights B
// quantized in the same format (mxfp4, nvfp4, nvint4, int4_g32, int4_g128, bcq), FP32 or
// BF16 output. Every block partial is the golden dot's (exact integer block sum, one scale
// product, see decode.h); partials are summed in FP32 in another order than golden_gemm's,
// so results agree within the bound the GPU test derives, not bit for bit.
//
// Paths: M <= 16 streams the weights with 128-bit loads and DP4A (memory-bound decode);
// larger M runs an int8 tensor-core kernel (mma.sync m16n8k32 / m16n8k16 s8, sm_80 and
// sm_90a) with the block scales applied to each block's int32 sums. E2M1 goes through int8 as
// 2 x value (exact), not through FP8 or FP16 MMA.
//
// Every CUDA call is checked; failures and bad input throw nibble::Error with one line.
#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "nibble/cuda/layout.h"
#include "nibble/models/tensor.h"

namespace nibble::cuda {

// Throws nibble::Error("CUDA error in <what>: <message>") unless status is cudaSuccess.
void check_cuda(cudaError_t status, const char* what);

// An owning device allocation (cudaMalloc / cudaFree).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  void* get() const { return data_; }
  template <typename T>
  T* as() const { return static_cast<T*>(data_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// A quantized operand in device memory, in the kernel layout (layout.h).
class DeviceQuantized {
 public:
  // Copies the layout to the device; returns when the copies are complete.
  static DeviceQuantized upload(const KernelLayout& layout, cudaStream_t stream = nullptr);
  // kernel_layout(q), then upload: throws for formats the kernels do not support.
  static DeviceQuantized upload(const QuantizedTensor& q, cudaStream_t stream = nullptr);

  const LayoutShape& shape() const { return shape_; }
  const std::uint8_t* codes() const { return codes_.as<const std::uint8_t>(); }
  const std::uint8_t* scales() const { return scales_.as<const std::uint8_t>(); }
  const float* scale_values() const { return scale_values_.as<const float>(); }
  const std::uint32_t* selectors() const { return selectors_.as<const std::uint32_t>(); }
  const std::array<NibbleTable, kMaxTables>& tables() const { return tables_; }
  // Bytes the kernels read for this operand: codes, scales and selectors.
  std::size_t device_bytes() const { return codes_.bytes() + scales_.bytes() + selectors_.bytes(); }

 private:
  LayoutShape shape_;
  DeviceBuffer codes_, scales_, selectors_, scale_values_;
  std::array<NibbleTable, kMaxTables> tables_{};
};

enum class OutputType { kFp32, kBf16 };

// C = A B^T into `c`: device memory holding M x N row-major FP32 or BF16 values
// (M = a.shape().rows, N = b.shape().rows). Asynchronous on `stream`; it allocates and frees
// a workspace of about M x K bytes stream-ordered. Throws for mismatched formats or K.
void gemm_w4a4(const DeviceQuantized& a, const DeviceQuantized& b, OutputType type, void* c,
               cudaStream_t stream = nullptr);

// The largest M that takes the DP4A decode path; larger M uses tensor cores.
constexpr std::int64_t kDecodeMaxRows = 16;

}  // namespace nibble::cuda

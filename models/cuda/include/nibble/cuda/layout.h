#pragma once
// The kernel layout of a quantized operand: what the CUDA GEMM consumes, built on the host
// from a models QuantizedTensor (plain C++, so the CPU tests check it without a GPU).
//
// Differences from QuantizedTensor, all for the kernels' loads:
//  - code rows are padded with zero bytes to a multiple of kRowAlignBytes, so every row
//    starts 32-byte aligned and a k-tile of 64 codes never reads past its row;
//  - BCQ selectors are one little-endian 32-bit word per block array (8 x 4 bits);
//  - element codes decode through NibbleTables built from models' exact integers.
// Scales keep their stored codes (1 or 2 bytes per block), which read fewer bytes than FP32
// scales; the kernels decode a code through scale_values, a table built from models' own
// scale decode with 2^element_exponent folded in.
#include <cstdint>
#include <string>
#include <vector>

#include "nibble/cuda/decode.h"
#include "nibble/models/tensor.h"

namespace nibble::cuda {

// The formats the kernels support, each with a fixed block size and scale storage.
enum class KernelFormat : std::uint8_t {
  kMxfp4,     // block 32, E8M0 scales, E2M1 elements
  kNv16,      // block 16, UE4M3 scales, E2M1 (nvfp4) or INT4 (nvint4) elements, tensor scale
  kInt4G32,   // block 32, FP16 scales, INT4 elements
  kInt4G128,  // block 128, FP16 scales, INT4 elements
  kBcq,       // block array 64 of 8 blocks of 8, UE4M3 scales, 16 codebooks, tensor scale
};

constexpr int kRowAlignBytes = 32;  // 64 codes: one k-tile of the prefill kernel
constexpr int kMaxTables = 16;      // BCQ's N_c; other formats use one table

// Everything but the data: what the host API checks and the kernels are launched with.
struct LayoutShape {
  KernelFormat format = KernelFormat::kMxfp4;
  std::string format_name;  // canonical models name; both GEMM operands must agree
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  int block = 0;                   // elements per scale
  std::int64_t blocks_per_row = 0;
  std::int64_t row_stride = 0;     // bytes per code row
  int scale_bytes = 0;
  float tensor_scale = 1;
  int table_count = 1;
};

struct KernelLayout {
  LayoutShape shape;
  std::vector<std::uint8_t> codes;       // rows x row_stride
  std::vector<std::uint8_t> scales;      // rows x blocks_per_row x scale_bytes, as in models
  std::vector<std::uint32_t> selectors;  // rows x blocks_per_row (BCQ only)
  std::vector<NibbleTable> tables;       // table_count
  std::vector<float> scale_values;       // scale code -> folded FP32 scale, 2^(8 scale_bytes)
};

// Re-lays q out for the kernels; throws nibble::Error naming the format if it is not one of
// mxfp4, nvfp4, nvint4, int4_g32, int4_g128 (symmetric, FP16 scales) or bcq with L_b = 8,
// L_A = 64, b = 4, integer entries of at most 8 bits and UE4M3 scales.
KernelLayout kernel_layout(const QuantizedTensor& q);

// Throws nibble::Error unless C = A B^T is defined: same format, same K.
void check_gemm_shapes(const LayoutShape& a, const LayoutShape& b);

// The folded scale of block `block` of row `row`: scale_values[its code].
float folded_scale(const KernelLayout& layout, std::int64_t row, std::int64_t block);

}  // namespace nibble::cuda

// W4A4 GEMM kernels (see nibble/cuda/gemm.h). One pass decodes the activations to int8
// (M x K bytes, tiny next to the weights) with folded FP32 block scales; then either the DP4A
// decode kernel (M <= 16) or the int8 tensor-core kernel decodes the 4-bit weights on the fly.
#include <cuda_bf16.h>

#include <algorithm>
#include <string>
#include <utility>

#include "nibble/cuda/gemm.h"
#include "nibble/models/error.h"

namespace nibble::cuda {

void check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw Error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
  }
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes) check_cuda(cudaMalloc(&data_, bytes), "cudaMalloc");
}
DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  std::swap(data_, other.data_);
  std::swap(bytes_, other.bytes_);
  return *this;
}
DeviceBuffer::~DeviceBuffer() {
  if (data_) cudaFree(data_);  // a destructor cannot throw; a failed free leaks
}

namespace {

template <typename T>
DeviceBuffer copy_to_device(const std::vector<T>& host, cudaStream_t stream) {
  DeviceBuffer buffer(host.size() * sizeof(T));
  if (buffer.bytes()) {
    check_cuda(cudaMemcpyAsync(buffer.get(), host.data(), buffer.bytes(), cudaMemcpyHostToDevice,
                               stream),
               "cudaMemcpyAsync (upload)");
  }
  return buffer;
}

}  // namespace

DeviceQuantized DeviceQuantized::upload(const KernelLayout& layout, cudaStream_t stream) {
  DeviceQuantized out;
  out.shape_ = layout.shape;
  out.codes_ = copy_to_device(layout.codes, stream);
  out.scales_ = copy_to_device(layout.scales, stream);
  out.selectors_ = copy_to_device(layout.selectors, stream);
  out.scale_values_ = copy_to_device(layout.scale_values, stream);
  for (size_t i = 0; i < layout.tables.size(); ++i) out.tables_[i] = layout.tables[i];
  check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize (upload)");
  return out;
}

DeviceQuantized DeviceQuantized::upload(const QuantizedTensor& q, cudaStream_t stream) {
  return upload(kernel_layout(q), stream);
}

namespace {

// ---------------------------------------------------------------- format traits -------
template <int Block, bool Selectors>
struct FormatTraits {
  static constexpr int kBlock = Block;
  static constexpr bool kSelectors = Selectors;
};
template <KernelFormat F>
struct Traits;
template <> struct Traits<KernelFormat::kMxfp4> : FormatTraits<32, false> {};
template <> struct Traits<KernelFormat::kNv16> : FormatTraits<16, false> {};
template <> struct Traits<KernelFormat::kInt4G32> : FormatTraits<32, false> {};
template <> struct Traits<KernelFormat::kInt4G128> : FormatTraits<128, false> {};
template <> struct Traits<KernelFormat::kBcq> : FormatTraits<64, true> {};

// A packed operand as the kernels read it.
struct PackedArgs {
  const std::uint8_t* codes;
  const std::uint8_t* scales;
  const std::uint32_t* selectors;  // BCQ only
  std::int64_t rows, cols, blocks, row_stride;
  const float* scale_values;  // scale code -> folded FP32 scale (layout.h)
  int scale_bytes;
};

struct TableArgs {
  NibbleTable tables[kMaxTables];
};

// The activations after decode_activations: int8 rows of k_stride bytes (zero past K) and
// one folded FP32 scale per block.
struct DecodedArgs {
  const std::int8_t* values;
  const float* scales;
  std::int64_t rows, k_stride, blocks;
};

struct OutputArgs {
  void* c;
  std::int64_t rows, cols;
  OutputType type;
  float scale_a, scale_b;  // the tensor scales g_A, g_B
};

constexpr int kTileK = 64;  // prefill k-tile; k_stride is a multiple of it

PackedArgs packed_args(const DeviceQuantized& q) {
  const LayoutShape& s = q.shape();
  return {q.codes(), q.scales(), q.selectors(), s.rows, s.cols, s.blocks_per_row, s.row_stride,
          q.scale_values(), s.scale_bytes};
}

__device__ __forceinline__ float folded_block_scale(const PackedArgs& p, std::int64_t row,
                                                    std::int64_t block) {
  const std::uint8_t* code = p.scales + (row * p.blocks + block) * p.scale_bytes;
  const std::uint32_t bits = p.scale_bytes == 2 ? code[0] | (code[1] << 8) : code[0];
  return __ldg(p.scale_values + bits);
}

__device__ __forceinline__ std::uint32_t selector_word(const PackedArgs& p, std::int64_t row,
                                                       std::int64_t block) {
  return p.selectors[row * p.blocks + block];
}

// y = (acc g_A) g_B, rounded as the golden dot rounds it, then stored as FP32 or BF16 (RNE).
__device__ __forceinline__ void store_output(const OutputArgs& out, std::int64_t m, std::int64_t n,
                                             float acc) {
  const float y = mul_rn(mul_rn(acc, out.scale_a), out.scale_b);
  if (out.type == OutputType::kFp32) {
    static_cast<float*>(out.c)[m * out.cols + n] = y;
  } else {
    static_cast<__nv_bfloat16*>(out.c)[m * out.cols + n] = __float2bfloat16_rn(y);
  }
}

template <int kCount>
__device__ __forceinline__ void load_tables(const TableArgs& args, NibbleTable* shared) {
  for (int i = threadIdx.x; i < kCount; i += blockDim.x) shared[i] = args.tables[i];
  __syncthreads();
}

// ------------------------------------------------------- activation decode -------------
// One thread per 8 elements: decode through the operand's tables, zero past K.
template <bool kSelectors, int kBlock>
__global__ void decode_activations(PackedArgs a, TableArgs table_args, std::int8_t* values,
                                   float* scales, std::int64_t k_stride) {
  __shared__ NibbleTable tables[kMaxTables];
  load_tables<kSelectors ? kMaxTables : 1>(table_args, tables);
  const std::int64_t words_per_row = k_stride / 8;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (std::int64_t w = first; w < a.rows * words_per_row; w += stride) {
    const std::int64_t m = w / words_per_row, k = (w % words_per_row) * 8;
    Int8x8 v{0, 0};
    if (k < a.cols) {
      const std::int64_t block = k / kBlock;
      const std::uint32_t codes =
          *reinterpret_cast<const std::uint32_t*>(a.codes + m * a.row_stride + k / 2);
      const std::uint32_t selectors = kSelectors ? selector_word(a, m, block) : 0u;
      const int valid = a.cols - k < 8 ? static_cast<int>(a.cols - k) : 8;
      v = keep_first(decode_sub_block(codes, tables, selectors, static_cast<int>((k / 8) % 8)),
                     valid);
    }
    *reinterpret_cast<uint2*>(values + m * k_stride + k) = make_uint2(v.lo, v.hi);
  }
  for (std::int64_t i = first; i < a.rows * a.blocks; i += stride) {
    scales[i] = folded_block_scale(a, i / a.blocks, i % a.blocks);
  }
}

// ------------------------------------------------------------ decode path --------------
// M <= 16. Each warp owns kRowsPerWarp weight rows; each lane streams 16-byte chunks (32
// codes) of them, lane i of an iteration taking chunk i, so a warp's loads are 512
// contiguous bytes per row. A block spans kLanesPerBlock lanes (BCQ 2, int4_g128 4), whose
// exact int32 sums meet by shuffles before the one scale multiply-add per block.
constexpr int kRowsPerWarp = 4;
constexpr int kDecodeWarps = 4;

template <KernelFormat F, int kMaxM>
__global__ void __launch_bounds__(kDecodeWarps * 32)
    gemm_decode(DecodedArgs a, PackedArgs b, TableArgs table_args, OutputArgs out) {
  using T = Traits<F>;
  constexpr int kBlocksPerChunk = T::kBlock < 32 ? 32 / T::kBlock : 1;
  constexpr int kLanesPerBlock = T::kBlock > 32 ? T::kBlock / 32 : 1;
  constexpr int kInt8WordsPerBlock = (T::kBlock < 32 ? T::kBlock : 32) / 4;  // within a chunk
  __shared__ NibbleTable tables[kMaxTables];
  load_tables<T::kSelectors ? kMaxTables : 1>(table_args, tables);

  const int lane = threadIdx.x % 32;
  const std::int64_t n0 =
      (static_cast<std::int64_t>(blockIdx.x) * kDecodeWarps + threadIdx.x / 32) * kRowsPerWarp;
  if (n0 >= b.rows) return;
  const int rows = static_cast<int>(b.rows - n0 < kRowsPerWarp ? b.rows - n0 : kRowsPerWarp);
  const std::int64_t chunks = (b.blocks * T::kBlock + 31) / 32;
  const int m_count = static_cast<int>(a.rows);

  float acc[kMaxM][kRowsPerWarp] = {};
  for (std::int64_t base = 0; base < chunks; base += 32) {
    const std::int64_t chunk = base + lane;
    const bool active = chunk < chunks;
    const std::int64_t k = chunk * 32;
    // The chunk's codes, decoded: 8 words of 4 int8 per row; rows past N stay zero.
    std::uint32_t w[kRowsPerWarp][8];
    float scale_b[kRowsPerWarp][kBlocksPerChunk];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      uint4 codes = make_uint4(0, 0, 0, 0);
      if (active && r < rows) {
        codes = __ldg(reinterpret_cast<const uint4*>(b.codes + (n0 + r) * b.row_stride + k / 2));
      }
      std::uint32_t selectors = 0;
      if constexpr (T::kSelectors) {
        if (active && r < rows) selectors = __ldg(b.selectors + (n0 + r) * b.blocks + k / T::kBlock);
      }
      const std::uint32_t c[4] = {codes.x, codes.y, codes.z, codes.w};
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const Int8x8 v = decode_sub_block(c[q], tables, selectors, static_cast<int>((k / 8 + q) % 8));
        w[r][2 * q] = v.lo;
        w[r][2 * q + 1] = v.hi;
      }
#pragma unroll
      for (int j = 0; j < kBlocksPerChunk; ++j) {
        const std::int64_t block = (k + j * T::kBlock) / T::kBlock;
        scale_b[r][j] = active && r < rows && block < b.blocks ? folded_block_scale(b, n0 + r, block) : 0.0f;
      }
    }
#pragma unroll
    for (int m = 0; m < kMaxM; ++m) {
      if (m >= m_count) break;
      uint4 x0 = make_uint4(0, 0, 0, 0), x1 = x0;
      if (active) {
        const uint4* row = reinterpret_cast<const uint4*>(a.values + m * a.k_stride + k);
        x0 = __ldg(row);
        x1 = __ldg(row + 1);
      }
      const std::uint32_t x[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
#pragma unroll
      for (int j = 0; j < kBlocksPerChunk; ++j) {
        const std::int64_t block = (k + j * T::kBlock) / T::kBlock;
        const float scale_a = active && block < a.blocks ? a.scales[m * a.blocks + block] : 0.0f;
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) {
          std::int32_t sum = 0;
#pragma unroll
          for (int i = 0; i < kInt8WordsPerBlock; ++i) {
            sum = dot4(x[j * kInt8WordsPerBlock + i], w[r][j * kInt8WordsPerBlock + i], sum);
          }
#pragma unroll
          for (int offset = 1; offset < kLanesPerBlock; offset *= 2) {
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, offset);
          }
          if (lane % kLanesPerBlock == 0) {
            acc[m][r] = add_rn(acc[m][r], block_partial(sum, scale_a, scale_b[r][j]));
          }
        }
      }
    }
  }
#pragma unroll
  for (int m = 0; m < kMaxM; ++m) {
    if (m >= m_count) break;
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      float v = acc[m][r];
#pragma unroll
      for (int offset = 16; offset > 0; offset /= 2) {
        v = add_rn(v, __shfl_xor_sync(0xFFFFFFFFu, v, offset));
      }
      if (lane == 0 && r < rows) store_output(out, m, n0 + r, v);
    }
  }
}

// ----------------------------------------------------------- prefill path --------------
// 128 x 128 output tile per CTA, 8 warps of 64 x 32, k-tiles of 64. Activations (int8) and
// packed weights arrive by cp.async into two stages; the weights are decoded to int8 in
// shared memory once per tile, then int8 MMAs of kMmaK (32, or 16 for 16-element blocks)
// accumulate int32 sums that are scaled and added in FP32 whenever a block ends.
constexpr int kTileM = 128, kTileN = 128;
constexpr int kPrefillThreads = 256;
constexpr int kWarpTileM = 64, kWarpTileN = 32;
constexpr int kMmaTilesM = kWarpTileM / 16, kMmaTilesN = kWarpTileN / 8;
// Row pitch of int8 tiles: 64 bytes + 16 of padding, so the 8 rows a fragment load touches
// fall in distinct banks (pitch 20 words: rows land 20 words apart, mod 32 all distinct).
constexpr int kInt8Pitch = kTileK + 16;
constexpr int kPackedPitch = kTileK / 2;

__device__ __forceinline__ void cp_async16(void* shared, const void* global, bool valid) {
  const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(shared));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(address), "l"(global),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

template <int kMmaK>
__device__ __forceinline__ void mma_s8(std::int32_t (&c)[4], const std::uint32_t* a,
                                       const std::uint32_t* b) {
  if constexpr (kMmaK == 32) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
        "{%0,%1,%2,%3};\n"
        : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(b[0]));
  }
}

template <KernelFormat F>
__global__ void __launch_bounds__(kPrefillThreads)
    gemm_prefill(DecodedArgs a, PackedArgs b, TableArgs table_args, OutputArgs out) {
  using T = Traits<F>;
  constexpr int kMmaK = T::kBlock < 32 ? T::kBlock : 32;
  constexpr int kSlots = T::kBlock < kTileK ? kTileK / T::kBlock : 1;  // scales per k-tile
  __shared__ __align__(16) std::int8_t a_tile[2][kTileM * kInt8Pitch];
  __shared__ __align__(16) std::uint8_t b_packed[2][kTileN * kPackedPitch];
  __shared__ __align__(16) std::int8_t b_tile[kTileN * kInt8Pitch];
  __shared__ float a_scales[kTileM][kSlots], b_scales[kTileN][kSlots];
  __shared__ NibbleTable tables[kMaxTables];
  load_tables<T::kSelectors ? kMaxTables : 1>(table_args, tables);

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int warp_m = warp / (kTileN / kWarpTileN), warp_n = warp % (kTileN / kWarpTileN);
  const int group = lane / 4, quad = lane % 4;  // the MMA fragment coordinates
  // Tile row and column of accumulator element e of MMA tile (i, j) (the m16n8 C layout).
  const auto fragment_row = [&](int i, int e) {
    return warp_m * kWarpTileM + i * 16 + group + (e >= 2 ? 8 : 0);
  };
  const auto fragment_col = [&](int j, int e) {
    return warp_n * kWarpTileN + j * 8 + quad * 2 + (e & 1);
  };
  const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.y) * kTileM;
  const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.x) * kTileN;
  const int k_tiles = static_cast<int>(a.k_stride / kTileK);

  // Rows past M or N load zeros (cp.async with source size 0).
  const auto load_tile = [&](int tile, int stage) {
    const std::int64_t k0 = static_cast<std::int64_t>(tile) * kTileK;
#pragma unroll
    for (int i = 0; i < 2; ++i) {  // 128 rows x 4 pieces of 16 bytes
      const int piece = tid + i * kPrefillThreads, row = piece / 4, col = piece % 4 * 16;
      const bool valid = m0 + row < a.rows;
      cp_async16(&a_tile[stage][row * kInt8Pitch + col],
                 a.values + (valid ? (m0 + row) * a.k_stride + k0 + col : 0), valid);
    }
    const int row = tid / 2, col = tid % 2 * 16;  // 128 rows x 2 pieces
    const bool valid = n0 + row < b.rows;
    cp_async16(&b_packed[stage][row * kPackedPitch + col],
               b.codes + (valid ? (n0 + row) * b.row_stride + k0 / 2 + col : 0), valid);
  };

  std::int32_t sums[kMmaTilesM][kMmaTilesN][4] = {};
  float acc[kMmaTilesM][kMmaTilesN][4] = {};

  load_tile(0, 0);
  cp_async_commit();
  for (int tile = 0; tile < k_tiles; ++tile) {
    const int stage = tile % 2;
    const std::int64_t k0 = static_cast<std::int64_t>(tile) * kTileK;
    if (tile + 1 < k_tiles) load_tile(tile + 1, stage ^ 1);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();

    {  // Decode this tile's weights: each thread 32 codes of one row.
      const int row = tid / 2, half = tid % 2;
      const std::int64_t block = (k0 + half * 32) / T::kBlock;
      std::uint32_t selectors = 0;
      if constexpr (T::kSelectors) {
        if (n0 + row < b.rows && block < b.blocks) selectors = __ldg(b.selectors + (n0 + row) * b.blocks + block);
      }
      const uint4 codes = *reinterpret_cast<const uint4*>(&b_packed[stage][row * kPackedPitch + half * 16]);
      const std::uint32_t c[4] = {codes.x, codes.y, codes.z, codes.w};
      std::uint32_t decoded[8];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const Int8x8 v = decode_sub_block(c[q], tables, selectors, half * 4 + q);
        decoded[2 * q] = v.lo;
        decoded[2 * q + 1] = v.hi;
      }
      uint4* target = reinterpret_cast<uint4*>(&b_tile[row * kInt8Pitch + half * 32]);
      target[0] = make_uint4(decoded[0], decoded[1], decoded[2], decoded[3]);
      target[1] = make_uint4(decoded[4], decoded[5], decoded[6], decoded[7]);
    }
    // The folded scales of the blocks this tile ends (past M, N or K: 0).
    for (int i = tid; i < (kTileM + kTileN) * kSlots; i += kPrefillThreads) {
      const int row = i / kSlots % kTileM, slot = i % kSlots;
      const std::int64_t block = (k0 + slot * (T::kBlock < kTileK ? T::kBlock : 0)) / T::kBlock;
      if (i < kTileM * kSlots) {
        const bool valid = m0 + row < a.rows && block < a.blocks;
        a_scales[row][slot] = valid ? a.scales[(m0 + row) * a.blocks + block] : 0.0f;
      } else {
        const bool valid = n0 + row < b.rows && block < b.blocks;
        b_scales[row][slot] = valid ? folded_block_scale(b, n0 + row, block) : 0.0f;
      }
    }
    __syncthreads();

    const std::int8_t* a_stage = a_tile[stage];
#pragma unroll
    for (int ks = 0; ks < kTileK; ks += kMmaK) {
      std::uint32_t a_frag[kMmaTilesM][4], b_frag[kMmaTilesN][2];
#pragma unroll
      for (int i = 0; i < kMmaTilesM; ++i) {
        const int row = warp_m * kWarpTileM + i * 16 + group;
        const std::int8_t* p = a_stage + row * kInt8Pitch + ks + quad * 4;
        a_frag[i][0] = *reinterpret_cast<const std::uint32_t*>(p);
        a_frag[i][1] = *reinterpret_cast<const std::uint32_t*>(p + 8 * kInt8Pitch);
        if constexpr (kMmaK == 32) {
          a_frag[i][2] = *reinterpret_cast<const std::uint32_t*>(p + 16);
          a_frag[i][3] = *reinterpret_cast<const std::uint32_t*>(p + 8 * kInt8Pitch + 16);
        }
      }
#pragma unroll
      for (int j = 0; j < kMmaTilesN; ++j) {
        const int col = warp_n * kWarpTileN + j * 8 + group;
        const std::int8_t* p = b_tile + col * kInt8Pitch + ks + quad * 4;
        b_frag[j][0] = *reinterpret_cast<const std::uint32_t*>(p);
        if constexpr (kMmaK == 32) b_frag[j][1] = *reinterpret_cast<const std::uint32_t*>(p + 16);
      }
#pragma unroll
      for (int i = 0; i < kMmaTilesM; ++i) {
#pragma unroll
        for (int j = 0; j < kMmaTilesN; ++j) mma_s8<kMmaK>(sums[i][j], a_frag[i], b_frag[j]);
      }
      if ((k0 + ks + kMmaK) % T::kBlock == 0) {  // a block ends: promote to FP32
        const int slot = T::kBlock < kTileK ? ks / T::kBlock : 0;
#pragma unroll
        for (int i = 0; i < kMmaTilesM; ++i) {
#pragma unroll
          for (int j = 0; j < kMmaTilesN; ++j) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const float partial = block_partial(sums[i][j][e], a_scales[fragment_row(i, e)][slot],
                                                  b_scales[fragment_col(j, e)][slot]);
              acc[i][j][e] = add_rn(acc[i][j][e], partial);
              sums[i][j][e] = 0;
            }
          }
        }
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < kMmaTilesM; ++i) {
#pragma unroll
    for (int j = 0; j < kMmaTilesN; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const std::int64_t m = m0 + fragment_row(i, e), n = n0 + fragment_col(j, e);
        if (m < out.rows && n < out.cols) store_output(out, m, n, acc[i][j][e]);
      }
    }
  }
}

// ------------------------------------------------------------------ launch -------------
template <KernelFormat F>
void launch(const DeviceQuantized& a, const DeviceQuantized& b, const OutputArgs& out,
            cudaStream_t stream) {
  using T = Traits<F>;
  const LayoutShape& sa = a.shape();
  const std::int64_t k_stride = (sa.blocks_per_row * sa.block + kTileK - 1) / kTileK * kTileK;
  const std::int64_t value_bytes = sa.rows * k_stride;
  void* workspace = nullptr;
  check_cuda(cudaMallocAsync(&workspace, value_bytes + sa.rows * sa.blocks_per_row * sizeof(float),
                             stream),
             "cudaMallocAsync (activation workspace)");
  auto* values = static_cast<std::int8_t*>(workspace);
  auto* scales = reinterpret_cast<float*>(values + value_bytes);  // value_bytes % 64 == 0

  TableArgs a_tables{}, b_tables{};
  for (int i = 0; i < kMaxTables; ++i) {
    a_tables.tables[i] = a.tables()[i];
    b_tables.tables[i] = b.tables()[i];
  }
  constexpr int kThreads = 256;
  const std::int64_t words = sa.rows * k_stride / 8;
  const int grid = static_cast<int>(std::min<std::int64_t>((words + kThreads - 1) / kThreads, 65535));
  decode_activations<T::kSelectors, T::kBlock>
      <<<grid, kThreads, 0, stream>>>(packed_args(a), a_tables, values, scales, k_stride);
  check_cuda(cudaGetLastError(), "decode_activations launch");

  const DecodedArgs decoded{values, scales, sa.rows, k_stride, sa.blocks_per_row};
  const std::int64_t n = b.shape().rows;
  if (sa.rows == 1) {
    const auto ctas = static_cast<unsigned>((n + kDecodeWarps * kRowsPerWarp - 1) / (kDecodeWarps * kRowsPerWarp));
    gemm_decode<F, 1><<<ctas, kDecodeWarps * 32, 0, stream>>>(decoded, packed_args(b), b_tables, out);
  } else if (sa.rows <= kDecodeMaxRows) {
    const auto ctas = static_cast<unsigned>((n + kDecodeWarps * kRowsPerWarp - 1) / (kDecodeWarps * kRowsPerWarp));
    gemm_decode<F, kDecodeMaxRows>
        <<<ctas, kDecodeWarps * 32, 0, stream>>>(decoded, packed_args(b), b_tables, out);
  } else {
    const dim3 ctas(static_cast<unsigned>((n + kTileN - 1) / kTileN),
                    static_cast<unsigned>((sa.rows + kTileM - 1) / kTileM));
    gemm_prefill<F><<<ctas, kPrefillThreads, 0, stream>>>(decoded, packed_args(b), b_tables, out);
  }
  check_cuda(cudaGetLastError(), "gemm kernel launch");
  check_cuda(cudaFreeAsync(workspace, stream), "cudaFreeAsync (activation workspace)");
}

}  // namespace

void gemm_w4a4(const DeviceQuantized& a, const DeviceQuantized& b, OutputType type, void* c,
               cudaStream_t stream) {
  check_gemm_shapes(a.shape(), b.shape());
  if (c == nullptr) throw Error("gemm_w4a4: output pointer is null");
  if ((a.shape().rows + kTileM - 1) / kTileM > 65535) {
    throw Error("gemm_w4a4: M = " + std::to_string(a.shape().rows) + " exceeds the grid");
  }
  const OutputArgs out{c, a.shape().rows, b.shape().rows, type, a.shape().tensor_scale,
                       b.shape().tensor_scale};
  switch (a.shape().format) {
    case KernelFormat::kMxfp4: return launch<KernelFormat::kMxfp4>(a, b, out, stream);
    case KernelFormat::kNv16: return launch<KernelFormat::kNv16>(a, b, out, stream);
    case KernelFormat::kInt4G32: return launch<KernelFormat::kInt4G32>(a, b, out, stream);
    case KernelFormat::kInt4G128: return launch<KernelFormat::kInt4G128>(a, b, out, stream);
    case KernelFormat::kBcq: return launch<KernelFormat::kBcq>(a, b, out, stream);
  }
}

}  // namespace nibble::cuda

#pragma once
// How one GEMM C[M, N] = A[M, K] W[N, K]^T runs on the R x C output-stationary array
// (DESIGN.md, "Mapping").
//
// The outputs are cut into blocks of tile_m x tile_n (multiples of R and C, clipped at the
// edges) and K into chunks of tile_k elements (a multiple of the format block; tile_k = K: no
// K-split). A *step* computes one block over one K chunk: every R x C array tile of the block
// in turn, each streaming the chunk's block pairs through all DPUs. K chunks are innermost, so
// each output still accumulates its K-blocks in K order (the golden dot's FP32 order): with a
// K-split the block's partial sums wait in the output buffer and are reloaded into the
// accumulators (dpu.clear_cycles per tile and chunk).
//
// A loop order (one file each under sim/src/mapping/, listed in loop_orders.cpp) nests the
// block indices: "m-outer" walks N-blocks inside M-blocks, "n-outer" the reverse. Reuse:
//  - an operand block stays in its buffer half while consecutive steps use it, and is loaded
//    again when the block changes (a block that does not fit half its buffer is streamed:
//    loaded again every step);
//  - the operand the inner loop walks over (W in m-outer, A in n-outer) is loaded once, whole,
//    when all of it fits half its buffer;
//  - BCQ codebooks are loaded once, with the first step.
// Timing: the next step's loads overlap the current step's compute, and the previous step's
// results drain meanwhile (double-buffered halves), so a step costs max(compute, next loads +
// previous stores); the first load, the pipeline drain (dpu.latency) and the last store are
// exposed. Without a K-split, results leave tile by tile (an array tile's FP32 results must
// fit half the output buffer; their DRAM time is charged to the next step); with a K-split the
// block's partial sums must fit half the output buffer.
//
// `m-outer` with array-sized blocks and no K-split is the array's plain tile order (the only
// mapping before the mapper existed). The mapper tries every loop order with block sizes
// R x 2^i and C x 2^j (the whole extent, and the most rows or columns whose K fits), each with
// the largest K chunk that fits the buffers, and keeps the legal mapping with the fewest
// cycles; mappings within kMapperCycleTolerance of the fewest count as tied and the fewest DRAM
// bytes wins among them (a mapping that hides its first load but streams the weights ten times
// is not better: DRAM energy dominates).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace nibble {

enum class GemmDim { kM, kN };

// A loop order: which block index is outer. K chunks are always innermost.
struct LoopOrder {
  std::string_view name;
  GemmDim outer;
  std::string_view doc;
};

std::span<const LoopOrder> loop_orders();
// The order named `name`; throws nibble::Error listing the known orders.
const LoopOrder& loop_order(std::string_view name);

struct Mapping {
  std::string order = "m-outer";
  std::int64_t tile_m = 0, tile_n = 0, tile_k = 0;  // outputs per block, K elements per chunk
  std::string describe() const;  // "m-outer 64x128 k=4096"
};

// Relative cycle window within which the mapper prefers fewer DRAM bytes.
constexpr double kMapperCycleTolerance = 0.05;

}  // namespace nibble

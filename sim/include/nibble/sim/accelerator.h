#pragma once
// The accelerator timing model's plain C++ core (DESIGN.md, "Hardware model contract"):
// an R x C output-stationary array of dot-product units (one block pair per cycle each,
// pipeline latency L), operand and output SRAM buffers, and a DRAM channel, with GEMMs tiled
// onto the array and operand loads double-buffered behind compute. Timing is at tile
// granularity: one load, compute and store per tile. A SystemC shell will wrap this core.
#include <cstdint>
#include <string>
#include <vector>

#include "nibble/models/block_format.h"
#include "nibble/models/tensor.h"

namespace nibble {

struct HardwareConfig {
  double clock_ghz = 1.0;
  int rows = 16;                     // R: DPUs along M
  int cols = 16;                     // C: DPUs along N
  std::string dpu_format;            // the format the DPUs are built for ("": any)
  int dpu_lanes = 0;                 // element pairs a DPU multiplies per cycle (0: a block)
  int dpu_initiation_interval = 1;   // cycles between two block-pair issues at full lanes
  int dpu_latency = 3;               // cycles from a block pair to its accumulation
  int dpu_clear_cycles = 0;          // idle cycles between two tiles to clear the accumulators
  std::int64_t a_buffer_bytes = 256 * 1024;    // activation SRAM (double-buffered halves)
  std::int64_t w_buffer_bytes = 256 * 1024;    // weight SRAM (double-buffered halves)
  std::int64_t o_buffer_bytes = 64 * 1024;     // output SRAM: a tile's FP32 results per half
  // SRAM read ports: banks x bytes per bank and cycle; 0 = as wide as the array needs. A block
  // step reads one block of A per array row and one of W per column; a narrower buffer
  // stretches it over ceil(bytes needed / port bytes) cycles.
  int a_banks = 0, a_bank_bytes = 0;
  int w_banks = 0, w_bank_bytes = 0;
  double dram_bytes_per_cycle = 64;  // DRAM channel bandwidth
  int dram_latency = 100;            // cycles from request to first byte
};

// Reads a hardware description (YAML; keys as in HardwareConfig, buffers in KiB):
//   clock_ghz: 1.0
//   array: {rows: 16, cols: 16}
//   dpu: {format: mxfp4, lanes: 32, initiation_interval: 1, latency: 3, clear_cycles: 0}
//   buffers: {a_kib: 256, w_kib: 256, o_kib: 64,
//             a_banks: 8, a_bank_bytes: 16, w_banks: 8, w_bank_bytes: 16}
//   dram: {bytes_per_cycle: 64, latency: 100}
// Unknown keys, bad values and unknown formats are nibble::Errors naming the file and line.
HardwareConfig load_hardware(const std::string& path);

struct Gemm {
  std::string name;
  std::int64_t m = 0, n = 0, k = 0;  // C[M, N] = A[M, K] * W[N, K]^T
};

// A GEMM list: CSV with the header `name,M,N,K`, or SCALE-Sim's GEMM topology
// (`Layer, M, N, K,`). Errors name the file and line.
std::vector<Gemm> load_gemms(const std::string& path);

// DRAM bytes of one operand, split by what they carry.
struct OperandBytes {
  std::int64_t elements = 0;  // packed element codes (BCQ: indices)
  std::int64_t scales = 0;    // block scales (per-tensor FP32 scales are not counted)
  std::int64_t side = 0;      // zero points, second scales, BCQ selectors
  std::int64_t codebooks = 0; // BCQ codebooks, loaded once per GEMM
  std::int64_t total() const { return elements + scales + side + codebooks; }
};

struct GemmStats {
  Gemm gemm;
  std::int64_t tiles = 0;
  std::int64_t compute_cycles = 0;   // cycles the array spends on block pairs (incl. drain)
  std::int64_t stall_cycles = 0;     // cycles the array waits, by cause:
  std::int64_t stall_first_load = 0;    //   the first tile's operands
  std::int64_t stall_operand_load = 0;  //   later operand loads not hidden behind compute
  std::int64_t stall_result_store = 0;  //   result stores not hidden, and the last one
  std::int64_t stall_sram_ports = 0;    // compute cycles stretched by narrow SRAM ports
                                        //   (counted in compute_cycles, not stall_cycles)
  std::int64_t cycles = 0;           // compute + stall
  double utilization = 0;            // useful DPU block operations / (R * C * cycles)
  std::int64_t dpu_block_ops = 0;    // block pairs consumed by DPUs holding real outputs
  OperandBytes dram_a, dram_w;       // loaded from DRAM, reuse included
  std::int64_t sram_read_a = 0;      // operand bytes the array reads from SRAM (each tile reads
  std::int64_t sram_read_w = 0;      // its A and W panels once: rows feed a row of DPUs)
  std::int64_t dram_out_bytes = 0;   // FP32 results stored
  // The tile schedule the cycle count comes from (replayed by the SystemC shell):
  std::int64_t blocks_per_tile = 0;          // ceil(K / block): block steps of one tile
  std::int64_t cycles_per_block_step = 1;    // > 1 with fewer lanes than a block, a longer
                                             // initiation interval or narrow SRAM ports
  struct TileStep {
    std::int64_t a_load = 0, w_load = 0;  // DRAM -> SRAM bytes before the tile computes
    std::int64_t a_read = 0, w_read = 0;  // SRAM -> array bytes while it computes
    std::int64_t results = 0;             // array -> output SRAM -> DRAM bytes after it
    std::int64_t load() const { return a_load + w_load; }
  };
  std::vector<TileStep> schedule;  // one step per tile, in order
};

// DRAM cycles of one transfer: dram_latency + ceil(bytes / bandwidth), 0 for no bytes.
std::int64_t dram_cycles(const HardwareConfig& hw, std::int64_t bytes);

// Per-row storage of a format for K elements (elements, scales, side data).
OperandBytes row_bytes(const BlockFormat& format, std::int64_t k);
// Per-tensor storage a format adds once: BCQ codebooks (count x entries x entry bits); 0 else.
std::int64_t codebook_bytes(const BlockFormat& format);

// Timing of one GEMM. The two formats must share a block size (the golden dot's K-blocks).
//  - tiles: ceil(M / R) x ceil(N / C), M-tiles outer; every tile streams ceil(K / block) block
//    pairs through all DPUs in lock step.
//  - reuse: an A panel (R rows x K) stays in the A buffer for all N-tiles of its M-tile when it
//    fits in half the buffer; W is loaded once for the whole GEMM when all of it fits in half
//    the W buffer, else one W panel (C rows x K) per tile.
//  - a load of b bytes takes dram_latency + ceil(b / bandwidth) cycles; the next tile's loads
//    overlap the current tile's compute (double buffering), so a tile costs
//    max(compute, next load); the first load and the last tile's drain (dpu_latency) are exposed.
//  - every tile after the first also waits dpu_clear_cycles for the accumulators to clear.
//  - a block step takes max(initiation interval x ceil(block / lanes), SRAM port cycles).
//  - a tile's FP32 results must fit half the output buffer (an Error otherwise).
GemmStats simulate_gemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                        const BlockFormat& w);

// Functional mode: computes C[M, N] = A W^T the way the array does, tile by tile, every DPU
// accumulating its output over the K-blocks through the golden dot product (so C equals
// models' golden_gemm bit for bit). A and W are quantized with their formats; tiles run on
// `threads` threads (0: every core).
Matrix functional_gemm(const HardwareConfig& hw, const QuantizedTensor& a, const QuantizedTensor& w,
                       int threads = 0);

}  // namespace nibble

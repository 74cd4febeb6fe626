#pragma once
// The accelerator timing model's plain C++ core (DESIGN.md, "Hardware model contract"):
// an R x C output-stationary array of dot-product units (one block pair per cycle each,
// pipeline latency L), operand and output SRAM buffers, and a DRAM channel, with each GEMM
// run by a mapping (mapping.h) whose steps double-buffer operand loads behind compute. The
// cycle count is evaluated in closed form (sweeps evaluate thousands of mappings); the step
// schedule itself is built on request for the SystemC shell, which replays it.
#include <cstdint>
#include <string>
#include <vector>

#include "nibble/models/block_format.h"
#include "nibble/models/tensor.h"
#include "nibble/sim/hardware.h"
#include "nibble/sim/mapping.h"

namespace nibble {

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
  Mapping mapping;
  std::int64_t tiles = 0;            // R x C array tiles the outputs cover
  std::int64_t steps = 0;            // mapping steps (block x K chunk)
  std::int64_t compute_cycles = 0;   // cycles the array spends on block pairs (incl. drain)
  std::int64_t stall_cycles = 0;     // cycles the array waits, by cause:
  std::int64_t stall_first_load = 0;    //   the first step's operands
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
  std::int64_t cycles_per_block_step = 1;    // > 1 with fewer lanes than a block, a longer
                                             // initiation interval or narrow SRAM ports
  std::int64_t dram_bytes() const { return dram_a.total() + dram_w.total() + dram_out_bytes; }
  // The step schedule the cycle count comes from (replayed by the SystemC shell); empty
  // unless asked for.
  struct TileStep {
    std::int64_t a_load = 0, w_load = 0;  // DRAM -> SRAM bytes before the step computes
    std::int64_t a_read = 0, w_read = 0;  // SRAM -> array bytes while it computes
    std::int64_t results = 0;             // array -> output SRAM -> DRAM bytes after it
    std::int64_t blocks = 0;              // block steps each DPU takes
    std::int64_t compute = 0;             // cycles, accumulator clears included
    std::int64_t load() const { return a_load + w_load; }
  };
  std::vector<TileStep> schedule;
};

// DRAM cycles of one transfer: dram_latency + ceil(bytes / bandwidth), 0 for no bytes.
std::int64_t dram_cycles(const HardwareConfig& hw, std::int64_t bytes);

// Per-row storage of a format for K elements (elements, scales, side data), from its
// FormatInfo: ceil(K / block) blocks, element codes packed, one scale and the side bits per
// block.
OperandBytes row_bytes(const BlockFormat& format, std::int64_t k);
// Per-tensor storage a format adds once: BCQ codebooks; 0 else.
std::int64_t codebook_bytes(const BlockFormat& format);

// The array-sized tiles in plain order: m-outer, R x C blocks, no K-split.
Mapping array_tile_mapping(const HardwareConfig& hw, const Gemm& gemm);

// Timing of one GEMM under `mapping` (see mapping.h). The two formats must share a block size
// (the golden dot's K-blocks). A block's results must fit half the output buffer (an Error
// otherwise). `with_schedule` also fills GemmStats::schedule.
//  - a block step takes max(initiation interval x ceil(block / lanes), SRAM port cycles);
//  - a load of b bytes takes dram_latency + ceil(b / bandwidth) cycles;
//  - every tile after the first waits dpu_clear_cycles for its accumulators.
GemmStats simulate_gemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                        const BlockFormat& w, const Mapping& mapping, bool with_schedule = false);
// The same under array_tile_mapping.
GemmStats simulate_gemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                        const BlockFormat& w);

// The mapper: the legal mapping with the fewest cycles (see mapping.h for ties), every block
// fitting its buffer half. Throws nibble::Error when not even an array tile's results fit.
GemmStats best_mapping(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                       const BlockFormat& w);

// Functional mode: computes C[M, N] = A W^T the way the array does, tile by tile, every DPU
// accumulating its output over the K-blocks through the golden dot product (so C equals
// models' golden_gemm bit for bit). A and W are quantized with their formats; tiles run on
// `threads` threads (0: every core).
Matrix functional_gemm(const HardwareConfig& hw, const QuantizedTensor& a, const QuantizedTensor& w,
                       int threads = 0);

}  // namespace nibble

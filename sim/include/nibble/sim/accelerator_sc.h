#pragma once
// A thin, loosely-timed SystemC shell around the tile-level core (accelerator.h), in the style
// of the SystemC TLM LT examples: the targets (DRAM channel, DPU array) add their time to a
// delay instead of calling wait(), and the controller waits once per tile step. One
// transaction per tile load, compute and store; the simulated time equals the core's cycle
// count, which a test checks. sc_main stays a few lines (see tests/sim_systemc).
#include <systemc>

#include <vector>

#include "nibble/sim/accelerator.h"

namespace nibble {

// DRAM channel: a transfer of `bytes` takes dram_cycles(hw, bytes).
struct DramChannel : sc_core::sc_module {
  DramChannel(sc_core::sc_module_name name, const HardwareConfig& hw, sc_core::sc_time cycle);
  void transfer(std::int64_t bytes, sc_core::sc_time& delay);
  std::int64_t bytes_moved = 0;

 private:
  const HardwareConfig& hw_;
  sc_core::sc_time cycle_;
};

// An SRAM buffer: DRAM fills it and the array reads it (the output buffer: the array writes
// results and DRAM drains them). Its read-port timing is part of the array's block step.
struct SramBuffer : sc_core::sc_module {
  SramBuffer(sc_core::sc_module_name name, std::int64_t capacity_bytes);
  void write(std::int64_t bytes) { bytes_written += bytes; }
  void read(std::int64_t bytes) { bytes_read += bytes; }
  const std::int64_t capacity_bytes;
  std::int64_t bytes_written = 0, bytes_read = 0;
};

// The R x C DPU array: `blocks` block pairs per DPU take `cycles` (one per block step, more
// with narrow SRAM ports or an accumulator clear); the pipeline drains in dpu_latency cycles.
struct DpuArray : sc_core::sc_module {
  DpuArray(sc_core::sc_module_name name, const HardwareConfig& hw, sc_core::sc_time cycle);
  void compute(std::int64_t blocks, std::int64_t cycles, sc_core::sc_time& delay);
  void drain(sc_core::sc_time& delay);
  std::int64_t block_steps = 0;

 private:
  const HardwareConfig& hw_;
  sc_core::sc_time cycle_;
};

// The top: owns its children; its controller thread replays every GEMM's tile schedule (load
// tile 0; then each tile computes while the next loads and the previous stores; then the
// drain and the last store), moving each step's bytes through the buffers.
struct AcceleratorTop : sc_core::sc_module {
  SC_HAS_PROCESS(AcceleratorTop);
  AcceleratorTop(sc_core::sc_module_name name, const HardwareConfig& hw,
                 std::vector<GemmStats> schedule);

  sc_core::sc_time cycle;
  const HardwareConfig& hw;
  DramChannel dram;
  SramBuffer a_buffer, w_buffer, o_buffer;
  DpuArray array;
  std::vector<std::int64_t> gemm_cycles;  // simulated cycles per GEMM, filled by run()

 private:
  void run();
  std::vector<GemmStats> schedule_;
};

}  // namespace nibble

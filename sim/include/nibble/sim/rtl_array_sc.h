#pragma once
// RTL in the loop: an R x C array whose PEs are the Verilated mxfp4 x mxfp4 dot-product unit
// (rtl/units/dpu_mx.v, verilator --sc), clocked by SystemC, in place of the model's DPUs.
//
// Tiles run in the model's order (M-tiles outer). Each clock presents one K-block step: the A
// block of array row r is broadcast along the row, the W block of column c down the column.
// The unit adds a block to its accumulator two edges after sampling it and clears it with
// clear_i, which wins over an arriving partial; so between two tiles the array idles one cycle
// and clears while the next tile's second block is sampled. That is the model's DPU with
// latency 2 and one clear cycle: compute cycles = tiles x blocks + (tiles - 1) + 2, which the
// tests check against simulate_gemm, together with C against the golden GEMM bit for bit.
#include <systemc>

#include <memory>
#include <vector>

#include "nibble/models/tensor.h"
#include "nibble/sim/accelerator.h"

class Vdpu_mx_sc;  // the Verilated unit

namespace nibble {

struct RtlGemmRun {
  Matrix c;                         // FP32 results (mxfp4 has no tensor scale)
  std::int64_t compute_cycles = 0;  // first block step to the last result, in clock cycles
};

class RtlDpuArray : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(RtlDpuArray);
  static const int kLatency;  // the Verilated unit's LATENCY (2 + its PIPE_STAGES)
  static constexpr int kClearCycles = 1;

  // Runs each (A, W) pair, both mxfp4 with the same K, then stops the simulation; results are
  // in `runs` after sc_start() returns.
  RtlDpuArray(sc_core::sc_module_name name, const HardwareConfig& hw,
              std::vector<std::pair<QuantizedTensor, QuantizedTensor>> gemms);
  ~RtlDpuArray() override;

  // Throws nibble::Error unless every pair is mxfp4 x mxfp4 with a common K.
  static void check(const std::vector<std::pair<QuantizedTensor, QuantizedTensor>>& gemms);

  std::vector<RtlGemmRun> runs;

 private:
  void drive();
  void present(const QuantizedTensor& a, const QuantizedTensor& w, std::int64_t m0,
               std::int64_t n0, std::int64_t block);

  int rows_, cols_;
  std::vector<std::pair<QuantizedTensor, QuantizedTensor>> gemms_;
  sc_core::sc_clock clock_;
  sc_core::sc_signal<bool> reset_n_, clear_, valid_;
  sc_core::sc_vector<sc_core::sc_signal<sc_dt::sc_bv<128>>> a_blocks_, w_blocks_;
  sc_core::sc_vector<sc_core::sc_signal<std::uint32_t>> a_scales_, w_scales_, results_;
  std::vector<std::unique_ptr<Vdpu_mx_sc>> units_;
};

}  // namespace nibble

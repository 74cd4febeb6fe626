#pragma once
// Switching activity of the synthesized gate-level netlists (rtl/gate/). Each configuration
// built in (CMake NIBBLE_GATE_CONFIGS) is Yosys' flattened netlist of the unit, rewritten by
// rtl/gate/gate_netlist.py so that every cell's output is visible, and Verilated. Operands go
// through it in the co-simulation's sequences (8 block pairs accumulated, then 2 drain cycles
// and a clear), every accumulator is compared bit for bit with the golden model, and after
// every rising clock edge the cell outputs that changed since the previous edge are counted
// per cell type (zero-delay: glitches are not counted).
#include <cstdint>
#include <string>
#include <vector>

#include "nibble/models/tensor.h"
#include "nibble/rtl/cosim.h"

namespace nibble {

struct CellToggles {
  std::string type;          // Yosys internal cell, e.g. "$_XOR_" or "$_SDFFE_PP0P_"
  std::int64_t cells = 0;    // instances in the netlist
  std::int64_t toggles = 0;  // output changes over the run
};

struct ActivityReport {
  std::string unit;
  std::int64_t block_ops = 0;   // block pairs driven
  std::int64_t cycles = 0;      // clock edges counted
  std::int64_t mismatches = 0;  // accumulators that differ from the golden model
  std::string first_mismatch;
  std::vector<CellToggles> cells;  // by type, sorted by name
};

// Gate-level configurations built into this binary ("dpu_nv:a=nvint4:b=nvint4").
const std::vector<std::string>& gate_units();

// Drives `block_ops` block pairs (rounded up to whole sequences). With `a` and `b` null, every
// element, selector and scale code is uniformly random (seeded); otherwise A's blocks hold the
// values of `a` and B's those of `b`, in row-major order, cut into runs of 8 blocks, each
// quantized in the unit's format (wrapping around at the end). Throws nibble::Error for a unit
// that is not built in.
ActivityReport run_activity(const std::string& unit, const Matrix* a, const Matrix* b,
                            std::int64_t block_ops, std::uint64_t seed);

// The co-simulation of run_cosim (cosim.h: random and directed sequences, bit for bit against
// the golden model) on the gate-level netlist.
CosimReport run_gate_cosim(const std::string& unit, std::int64_t vectors, std::uint64_t seed);

}  // namespace nibble

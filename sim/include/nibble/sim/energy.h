#pragma once
// Energy of a simulated GEMM: events x energy per event, from a data table that cites its
// sources (sim/configs/energy_45nm.yaml).
//
// A DPU block operation costs what its unit's gate-level netlist switches per block operation
// where that was measured (rtl/gate/activity.json: toggles per cell type x the table's energy
// per output toggle of that cell, plus every flip-flop's clock energy per cycle; the unit's
// own FP32 accumulator included), on the real-model operands when measured, else the first
// measured source of llm-act, llm-weight, random. Without a measurement (the documented
// fallback) it costs lanes x e_lane + fp32_add, where e_lane scales the table's
// 8-bit MAC by the unit's synthesized size: e_lane = int8_mac * (NAND2 per lane of the unit) /
// (NAND2 per lane of the mxint8 unit), both from rtl/area/area.json at the same lane count
// when present. Without an area entry for the format pair, e_lane = int8_mac * (element bits
// of A x element bits of W) / 64. SRAM bytes (written once from DRAM, read once per tile that
// uses them) cost the per-byte read energy of their buffer's size, as do results (written to
// the output buffer and read out once); DRAM bytes cost their own; vector element operations
// (norms, RoPE, softmax, SiLU) cost vector_pj_per_element each.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nibble/models/block_format.h"
#include "nibble/sim/accelerator.h"

namespace nibble {

struct EnergyTable {
  std::string source;
  double int8_mac_pj = 0;
  double fp32_add_pj = 0;
  std::vector<std::pair<double, double>> sram_read_pj_per_byte;  // (KiB, pJ), by size
  double dram_pj_per_byte = 0;
  double vector_pj_per_element = 0;
  double nand2_um2 = 0;         // area of one NAND2 gate equivalent
  double sram_um2_per_bit = 0;  // SRAM area per bit, periphery included
  // Energy per output toggle by gate ("AND", "XOR", ... and "DFF" for every flip-flop), fJ.
  std::map<std::string, double> gate_toggle_fj;
  double flip_flop_clock_fj = 0;  // a flip-flop's clock pin, every cycle, toggling or not

  // fJ per output toggle of a Yosys internal cell ("$_XOR_", "$_SDFFE_PP0P_"); throws
  // nibble::Error for a cell the table has no entry for.
  double toggle_fj(const std::string& cell) const;

  double sram_pj_per_byte(std::int64_t bytes) const;
};

// Throws nibble::Error naming the file and line for a malformed table or an unknown key.
EnergyTable load_energy(const std::string& path);

// The synthesized DPU units of rtl/area/area.json: NAND2 equivalents per lane by unit.
struct AreaTable {
  struct Unit {
    std::string name;  // "dpu_mx:a=mxfp4:b=mxfp4"
    int lanes = 0;
    double nand2_per_lane = 0;
  };
  std::vector<Unit> units;
};
// An empty table for an empty path or a missing file (energy and area fall back to the
// element-bit estimate); a malformed file is a nibble::Error.
AreaTable load_area(const std::string& path);

// Measured switching activity of the gate-level netlists (rtl/gate/activity.json, written by
// rtl/gate/activity.py from `nibble energy --json`): per configuration and operand source.
struct Activity {
  std::string unit;      // "dpu_nv:a=nvfp4:b=nvfp4"
  std::string operands;  // "random", "llm-act", "llm-weight" or "lm:<model>"
  double cycles_per_op = 0;
  std::map<std::string, double> toggles_per_op;  // by Yosys cell type
  std::map<std::string, std::int64_t> cells;     // instances by Yosys cell type
};
struct ActivityTable {
  std::vector<Activity> entries;
};
// An empty table for an empty path or a missing file (DPU energy falls back to the area-scaled
// estimate); a malformed file is a nibble::Error.
ActivityTable load_activity(const std::string& path);

// Energy of one block operation from its activity: toggles x toggle_fj per cell type, plus
// flip-flops x flip_flop_clock_fj x cycles, in pJ.
double block_op_pj(const EnergyTable& table, const Activity& activity);

// The activity of the (a, w) unit (its formats name the configuration, block size included):
// real-model operands first, then llm-act, llm-weight, random; nullptr when none.
const Activity* find_activity(const ActivityTable& activity, const std::string& a, const std::string& w);

struct EnergyBreakdown {
  double dpu_pj = 0, accumulate_pj = 0, sram_pj = 0, dram_pj = 0;
  std::string dpu_basis;  // "gate-level activity: <unit>, <operands>", "area.json: <unit>" or "element-bit estimate"
  double total_pj() const { return dpu_pj + accumulate_pj + sram_pj + dram_pj; }
};

// Energy of one GEMM's statistics.
EnergyBreakdown gemm_energy(const EnergyTable& table, const AreaTable& area, const ActivityTable& activity,
                            const HardwareConfig& hw, const GemmStats& stats, const BlockFormat& a,
                            const BlockFormat& w);

// Silicon area of the design: R x C DPUs of dpu.lanes lanes (a block when 0) x NAND2 per lane
// from area.json (the unit synthesized with that many lanes where there is one) x nand2_um2;
// without an entry for the format pair, the mxint8 unit's per-lane size scaled by element bits
// as for energy; and the A, W and output SRAMs (bits x sram_um2_per_bit).
struct DesignArea {
  double dpu_um2 = 0, sram_um2 = 0;
  std::string dpu_basis;
  double total_um2() const { return dpu_um2 + sram_um2; }
};
DesignArea design_area(const EnergyTable& table, const AreaTable& area, const HardwareConfig& hw,
                       const BlockFormat& a, const BlockFormat& w);

}  // namespace nibble

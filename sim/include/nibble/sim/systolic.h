#pragma once
// The classic systolic mode: one MAC per PE and SCALE-Sim v3's timing semantics, so nibble's
// numbers can be checked against (and compared with) the reference academic simulator.
//
// It reads SCALE-Sim's own files — the .cfg architecture description and the GEMM topology
// CSV — and reproduces the cycles of its COMPUTE_REPORT.csv: the array runs a GEMM as folds
// (array-sized pieces of the operand matrices) whose requests enter it skewed by one cycle per
// row/column; double-buffered ifmap/filter SRAMs prefetch from DRAM in the order the folds need
// the data, and the ofmap SRAM drains to DRAM once half full. A request that misses the active
// half of a buffer, or a write into a full ofmap buffer, stalls the whole array.
//
// Supported: dataflows os, ws, is; InterfaceBandwidth USER (DRAM words per cycle given) and
// CALC (bandwidth sized so reads never stall); GEMM topologies. Not supported (an error):
// custom SRAM layouts, Ramulator traces and sparsity.
#include <cstdint>
#include <string>
#include <vector>

#include "nibble/sim/accelerator.h"

namespace nibble {

struct SystolicConfig {
  std::string run_name;
  int rows = 32;  // ArrayHeight
  int cols = 32;  // ArrayWidth
  std::int64_t ifmap_sram_bytes = 64 * 1024;
  std::int64_t filter_sram_bytes = 64 * 1024;
  std::int64_t ofmap_sram_bytes = 64 * 1024;
  std::string dataflow = "os";
  bool user_bandwidth = false;  // InterfaceBandwidth USER (else CALC)
  // USER mode: words per cycle of the DRAM interfaces. SCALE-Sim feeds the read buffers from
  // the [layout] bank bandwidths and the ofmap buffer from the first `Bandwidth` entry.
  int ifmap_words_per_cycle = 10;
  int filter_words_per_cycle = 10;
  int ofmap_words_per_cycle = 10;
};

// Reads a SCALE-Sim .cfg file (INI: [section] and `key : value` or `key = value`, keys
// case-insensitive). Missing keys, bad values and unsupported features are nibble::Errors
// naming the file (and line where there is one).
SystolicConfig load_scalesim_config(const std::string& path);

// One GEMM's results: the columns of SCALE-Sim's COMPUTE_REPORT.csv plus the stalls by cause.
struct SystolicReport {
  Gemm gemm;
  std::int64_t cycles_with_prefetch = 0;  // first DRAM read to last DRAM write
  std::int64_t cycles = 0;                // compute cycles incl. stalls
  std::int64_t stall_cycles = 0;
  double overall_util_pct = 0;            // MACs / (PEs x cycles)
  double mapping_efficiency_pct = 0;      // mean over folds of used PEs / PEs
  double compute_util_pct = 0;            // mean over folds of MACs / (PEs x fold cycles)
  // A stalled cycle counts for the buffer that stalled longest (ties: ifmap, filter, ofmap).
  std::int64_t ifmap_stall_cycles = 0;
  std::int64_t filter_stall_cycles = 0;
  std::int64_t ofmap_stall_cycles = 0;
  std::int64_t folds = 0;
  std::int64_t ofmap_dram_writes = 0;     // words
};

SystolicReport simulate_systolic(const SystolicConfig& config, const Gemm& gemm);

// The dataflows the systolic mode knows ("os", "ws", "is").
std::vector<std::string> systolic_dataflows();

// COMPUTE_REPORT.csv: SCALE-Sim's header and row format (LayerID is the GEMM's index).
void write_compute_report(const std::string& path, const std::vector<SystolicReport>& reports);

}  // namespace nibble

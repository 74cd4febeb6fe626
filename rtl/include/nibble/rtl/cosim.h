#pragma once
// Co-simulation of the Verilated RTL units against the golden model of models/.
#include <cstdint>
#include <string>
#include <vector>

namespace nibble {

struct CosimReport {
  std::string unit;
  std::int64_t vectors = 0;     // block pairs driven (each checked after it accumulates)
  std::int64_t mismatches = 0;
  double seconds = 0;
  std::string first_mismatch;   // the vector, RTL and golden values; empty if none
  std::string waveform;         // FST written for the first mismatching sequence, if any
};

// The formats the golden model reads the unit's codes and scales as; empty: the unit's own.
// Others must store blocks as the unit's formats do: `nibble cosim --against` checks whether
// a unit also implements them (an NVINT4 unit does not implement NVFP4, whose codes it reads).
struct GoldenFormats {
  std::string a, b;
};

// Unit configurations compiled into this build, e.g. "dpu_mx:a=mxfp4:b=mxfp4".
const std::vector<std::string>& cosim_units();

// Clock edges from a block's sampling edge to its accumulation: the unit's LATENCY
// (2 + PIPE_STAGES). Throws nibble::Error for an unknown unit.
int cosim_latency(const std::string& unit);

// Drives `vectors` block pairs (random and directed: quantized tensors, raw codes, extreme
// and NaN scales, cancellation, zeros) in sequences that accumulate, and compares the
// accumulator after every block with models' golden_dot of the prefix, bit for bit (NaN
// compares as NaN). On the first mismatching sequence, replays it with FST tracing into
// `waveform_path` when that is not empty. Throws nibble::Error for an unknown unit or golden
// formats that store blocks differently.
CosimReport run_cosim(const std::string& unit, std::int64_t vectors, std::uint64_t seed,
                      const std::string& waveform_path = "", const GoldenFormats& golden = {});

// Writes the FST waveform of the first sequence `seed` gives, as a mismatch would.
void trace_sequence(const std::string& unit, std::uint64_t seed, const std::string& waveform_path);

}  // namespace nibble

#pragma once
// The accelerator's hardware parameters and their schema. Every key is declared once, in
// hardware.cpp's table (dotted YAML path, member, default, valid range, unit, one-line doc),
// and that table drives the YAML reader, the JSON output, `nibble sim --list-keys` and the
// sweep axes: a key added there is read, validated, written and sweepable everywhere.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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
  std::int64_t o_buffer_bytes = 64 * 1024;     // output SRAM: FP32 results (and K-split partials)
  // SRAM read ports: banks x bytes per bank and cycle; 0 = as wide as the array needs. A block
  // step reads one block of A per array row and one of W per column; a narrower buffer
  // stretches it over ceil(bytes needed / port bytes) cycles.
  int a_banks = 0, a_bank_bytes = 0;
  int w_banks = 0, w_bank_bytes = 0;
  double dram_bytes_per_cycle = 64;  // DRAM channel bandwidth
  int dram_latency = 100;            // cycles from request to first byte
  double vector_elements_per_cycle = 64;  // the vector unit (norms, RoPE, softmax, SiLU)
};

enum class KeyKind { kInteger, kReal, kFormat };

struct HardwareKey {
  std::string path;  // dotted YAML path, e.g. "array.rows"
  KeyKind kind;
  double min = 0, max = 0;  // valid range (numbers), inclusive
  std::string unit;
  std::string doc;
};

// Every key, in file order.
const std::vector<HardwareKey>& hardware_keys();
// The key at `path`; throws nibble::Error listing the valid keys for an unknown one.
const HardwareKey& hardware_key(const std::string& path);

// Sets one key from a JSON value (a number, or a format name for dpu.format); throws
// nibble::Error naming the key, the value and the valid range.
void set_hardware_key(HardwareConfig& hw, const std::string& path, const nlohmann::json& value);
// The key's value (a number, or the format name).
nlohmann::json hardware_value(const HardwareConfig& hw, const std::string& path);

// Nested by dotted path: {"array": {"rows": 32, "cols": 32}, ...}, every key present.
nlohmann::json hardware_to_json(const HardwareConfig& hw);
// The inverse; keys left out keep their defaults, unknown keys are errors.
HardwareConfig hardware_from_json(const nlohmann::json& json);

// Reads a hardware description (YAML, the same nesting as hardware_to_json):
//   clock_ghz: 1.0
//   array: {rows: 16, cols: 16}
//   dpu: {format: mxfp4, lanes: 32, initiation_interval: 1, latency: 3, clear_cycles: 0}
//   buffers: {a_kib: 256, w_kib: 256, o_kib: 64, a_banks: 8, a_bank_bytes: 16, ...}
//   dram: {bytes_per_cycle: 64, latency: 100}
//   vector: {elements_per_cycle: 64}
// Unknown or duplicate keys, values outside their range and unknown formats are
// nibble::Errors naming the file and line.
HardwareConfig load_hardware(const std::string& path);

}  // namespace nibble

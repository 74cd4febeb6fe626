#include "nibble/rtl/cosim.h"

#include "dpu_cosim.h"
#include "nibble/models/error.h"

// The Verilated configurations, listed once in rtl/CMakeLists.txt.
#include "dpu_headers.inc"

namespace nibble {
namespace {

struct Unit {
  std::string name;
  int latency;
  CosimReport (*run)(const std::string&, std::int64_t, std::uint64_t, const std::string&,
                     const GoldenFormats&);
  void (*trace)(std::uint64_t, const std::string&);
};

const std::vector<Unit>& units() {
  static const std::vector<Unit> all = {
#define NIBBLE_DPU_CONFIG(model, latency, unit, a_format, b_format)                          \
  {unit ":a=" a_format ":b=" b_format, latency,                                              \
   [](const std::string& name, std::int64_t vectors, std::uint64_t seed,                     \
      const std::string& waveform, const GoldenFormats& golden) {                            \
     return rtl::cosim_dpu<model>(name, latency, a_format, b_format, vectors, seed, waveform,  \
                                  golden);                                                   \
   },                                                                                        \
   [](std::uint64_t seed, const std::string& waveform) {                                     \
     rtl::trace_dpu<model>(latency, a_format, b_format, seed, waveform);                     \
   }},
#include "dpu_configs.inc"
#undef NIBBLE_DPU_CONFIG
  };
  return all;
}

}  // namespace

const std::vector<std::string>& cosim_units() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const Unit& u : units()) n.push_back(u.name);
    return n;
  }();
  return names;
}

const Unit& find_unit(const std::string& unit) {
  for (const Unit& u : units()) {
    if (u.name == unit) return u;
  }
  std::string known;
  for (const Unit& u : units()) known += (known.empty() ? "" : ", ") + u.name;
  throw Error("unknown unit configuration '" + unit + "' (compiled: " + known + ")");
}

int cosim_latency(const std::string& unit) { return find_unit(unit).latency; }

CosimReport run_cosim(const std::string& unit, std::int64_t vectors, std::uint64_t seed,
                      const std::string& waveform_path, const GoldenFormats& golden) {
  return find_unit(unit).run(unit, vectors, seed, waveform_path, golden);
}

void trace_sequence(const std::string& unit, std::uint64_t seed, const std::string& waveform_path) {
  find_unit(unit).trace(seed, waveform_path);
}

}  // namespace nibble

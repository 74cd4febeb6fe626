#include "nibble/rtl/cosim.h"

#include "dpu_mx_cosim.h"
#include "nibble/models/error.h"

// The Verilated configurations, listed once in rtl/CMakeLists.txt.
#include "dpu_mx_headers.inc"

namespace nibble {
namespace {

struct Unit {
  std::string name;
  CosimReport (*run)(const std::string&, std::int64_t, std::uint64_t, const std::string&);
};

const std::vector<Unit>& units() {
  static const std::vector<Unit> all = {
#define NIBBLE_DPU_MX_CONFIG(model, a_format, b_format)                                      \
  {"dpu_mx:a=" a_format ":b=" b_format,                                                      \
   [](const std::string& unit, std::int64_t vectors, std::uint64_t seed,                     \
      const std::string& waveform) {                                                         \
     return rtl::cosim_dpu_mx<model>(unit, a_format, b_format, vectors, seed, waveform);     \
   }},
#include "dpu_mx_configs.inc"
#undef NIBBLE_DPU_MX_CONFIG
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

CosimReport run_cosim(const std::string& unit, std::int64_t vectors, std::uint64_t seed,
                      const std::string& waveform_path) {
  for (const Unit& u : units()) {
    if (u.name == unit) return u.run(unit, vectors, seed, waveform_path);
  }
  std::string known;
  for (const Unit& u : units()) known += (known.empty() ? "" : ", ") + u.name;
  throw Error("unknown unit configuration '" + unit + "' (compiled: " + known + ")");
}

}  // namespace nibble

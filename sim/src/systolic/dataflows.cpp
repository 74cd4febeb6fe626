#include "dataflow.h"

namespace nibble::systolic {

namespace {
constexpr DataflowEntry kDataflows[] = {
    {"os", output_stationary},
    {"ws", weight_stationary},
    {"is", input_stationary},
};
}  // namespace

const DataflowEntry* find_dataflow(std::string_view name) {
  for (const DataflowEntry& entry : kDataflows) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::span<const DataflowEntry> dataflows() { return kDataflows; }

}  // namespace nibble::systolic

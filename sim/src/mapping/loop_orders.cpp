#include "loop_orders.h"

#include <array>
#include <functional>
#include <string>

#include "nibble/models/error.h"

namespace nibble {

std::span<const LoopOrder> loop_orders() {
  static const std::array<LoopOrder, 2> all = {kMOuter, kNOuter};
  return all;
}

const LoopOrder& loop_order(std::string_view name) {
  for (const LoopOrder& order : loop_orders()) {
    if (order.name == name) return order;
  }
  std::string known;
  for (const LoopOrder& order : loop_orders()) known += (known.empty() ? "" : ", ") + std::string(order.name);
  throw Error("unknown loop order '" + std::string(name) + "' (known: " + known + ")");
}

std::string Mapping::describe() const {
  return order + " " + std::to_string(tile_m) + "x" + std::to_string(tile_n) + " k=" + std::to_string(tile_k);
}

}  // namespace nibble

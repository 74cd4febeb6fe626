#pragma once
// Sets one spec key in a design: "formats" (a map of roles), "formats.<role>" (a format name,
// canonicalized by models' registry), "workload.<key>" and hardware keys (through the
// DesignSpace). Throws nibble::Error naming the key and the problem.
#include <string>

#include <nlohmann/json.hpp>

#include "nibble/sim/sweep.h"

namespace nibble {

void apply_design_key(const DesignSpace& space, nlohmann::json& design, const std::string& key,
                      const nlohmann::json& value);

}  // namespace nibble

#pragma once
#include "nibble/sim/mapping.h"

namespace nibble {

extern const LoopOrder kMOuter;
extern const LoopOrder kNOuter;

}  // namespace nibble

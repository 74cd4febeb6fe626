#include "loop_orders.h"

namespace nibble {

// M-blocks outer: an A block stays while every N-block of W streams past it; W is kept whole
// when it fits (decode: the weights stream once; prefill: the activations are read once).
extern const LoopOrder kMOuter{"m-outer", GemmDim::kM,
                               "M-blocks outer, N-blocks inner: A block resident, W streamed per M-block"};

}  // namespace nibble

#include "loop_orders.h"

namespace nibble {

// N-blocks outer: a W block stays while every M-block of A streams past it, so each weight
// is read once however many tokens there are; A is kept whole when it fits.
extern const LoopOrder kNOuter{"n-outer", GemmDim::kN,
                               "N-blocks outer, M-blocks inner: W block resident, A streamed per N-block"};

}  // namespace nibble

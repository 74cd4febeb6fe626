#pragma once
// One way to spread independent work items over threads. Items are handed out dynamically;
// callers write each item's result to its own slot and reduce the slots in index order
// afterwards, so results never depend on the thread count.
#include <cstdint>
#include <functional>

namespace nibble {

// Runs body(i) for every i in [0, count) on min(threads, count) threads (threads <= 0: every
// core), the calling thread included; inside another parallel_for, on the calling thread
// alone (no oversubscription when nested). The first exception thrown by any item is rethrown
// after all threads have stopped (items not yet started are skipped).
void parallel_for(std::int64_t count, int threads, const std::function<void(std::int64_t)>& body);

}  // namespace nibble

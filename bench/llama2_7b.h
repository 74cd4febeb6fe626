#pragma once
// The linear-layer GEMMs of one Llama-2-7B decoder layer in a 2048-token prefill, shared by the
// simulator benchmarks.
#include "nibble/sim/accelerator.h"

namespace nibble::bench {

inline constexpr int kLlama2_7BLayers = 32;
inline const Gemm kLlama2_7BPrefillLayer[] = {
    {"q", 2048, 4096, 4096},     {"k", 2048, 4096, 4096},  {"v", 2048, 4096, 4096},
    {"o", 2048, 4096, 4096},     {"gate", 2048, 11008, 4096}, {"up", 2048, 11008, 4096},
    {"down", 2048, 4096, 11008}};

}  // namespace nibble::bench

#pragma once
// Synthetic LLM-like tensors, seeded and reproducible on every platform: all samplers are
// built here on std::mt19937_64 (whose output sequence the standard fixes), never on the
// implementation-defined std::*_distribution.
//
//   gaussian    N(0, 1)
//   laplace     Laplace with unit variance (b = 1/sqrt(2))
//   student-t   Student's t with nu = 3 degrees of freedom (heavy tails, finite variance)
//   llm-act     activations, rows = tokens, cols = channels: x = N(0,1) * s_token * o_channel,
//               s_token log-normal (sigma 0.5); about 0.5% of the channels (at least 2) are
//               outliers with o_channel uniform in [20, 100], all others o_channel = 1
//   llm-weight  weights, rows = output channels: x = 0.02 * s_row * t_5, s_row log-normal
//               (sigma 0.4), t_5 Student's t with nu = 5
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/models/tensor.h"

namespace nibble {

const std::vector<std::string>& synthetic_distributions();

// Throws nibble::Error for an unknown distribution or an empty shape.
Matrix synthetic_tensor(std::string_view distribution, std::int64_t rows, std::int64_t cols,
                        std::uint64_t seed);

// The outlier channels llm-act uses for (cols, seed), in increasing order.
std::vector<std::int64_t> llm_act_outlier_channels(std::int64_t cols, std::uint64_t seed);

}  // namespace nibble

#pragma once
// BCQ: block clustered quantization, and LO-BCQ codebook calibration
// (Elangovan, Sakr, Raghunathan, Khailany, "BCQ: Block Clustered Quantization for 4-bit
// (W4A4) LLM Inference", 2025).
//
// A row is cut into block arrays of L_A scalars sharing one scale, each cut into blocks of
// L_b scalars. Every block picks one of N_c codebooks (its selector, ceil(log2 N_c) bits) and
// every scalar stores a b-bit index into that codebook. Codebook entries are signed integers
// on the e-bit grid [-(2^(e-1) - 1), 2^(e-1) - 1] (or, for study, arbitrary floats).
//
//   bits per scalar = b + log2(N_c) / L_b + scale_bits / L_A      (defaults: 4 + 4/8 + 8/64 = 4.625)
//
// Scales. M = 2^(e-1) - 1 is the grid's largest magnitude (31 for e = 6). A block array with
// amax A_j gets  s_j = RNE_scale(A_j / M / g)  so that its amax lands on the edge of the grid;
// with UE4M3 scales (default) g = tensor_amax / (448 * M) is a per-tensor FP32 factor as in
// NVFP4 and s_j is clamped to [2^-9, 448] (the positive UE4M3 range); with E8M0, BF16 or FP32
// scales g = 1, and an E8M0 scale is the power of two at or above A_j / M (rounded up, so no
// scalar lands beyond the grid). Scalars are encoded in the scaled domain y = x / (s_j * g)
// (an FP32 division).
// Encoding. Per block, the codebook with the least squared error over its L_b scalars is
// chosen exhaustively (ties: the lowest codebook index); per scalar, the nearest entry
// (ties: the larger entry). NaN/Inf in a block array: NaN scale, the array dequantizes NaN;
// an all-zero array gets the smallest scale.
// Golden dot. The block of the dot product is the block array (one scale per L_A); the
// exact integers are the codebook entries, so the block partial is an exact integer sum of
// entry products times the scale product. Float-entry codebooks are not supported there.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nibble/models/bcq_params.h"
#include "nibble/models/block_format.h"
#include "nibble/models/tensor.h"

namespace nibble {



// N_c codebooks of 2^b entries each, each codebook sorted ascending.
struct Codebooks {
  int count = 0;
  int entries = 0;
  std::vector<float> values;  // count x entries, row-major
  const float* book(int c) const { return values.data() + static_cast<size_t>(c) * entries; }
};

// Parses "bcq[:lb=8][:la=64][:nc=16][:b=4][:e=6][:entries=int|float][:scale=ue4m3]".
BcqParams parse_bcq_params(const std::string& name);

// The codebooks a format made by name alone uses (before any calibration): codebook c spreads
// its 2^b entries evenly over [-R_c, R_c], R_c = M (c + 1) / N_c, rounded to the grid; so the
// set spans blocks of every dynamic range relative to their array.
Codebooks default_codebooks(const BcqParams& params);

// Checks that codebooks fit the parameters (count, entries, grid, sorted); throws nibble::Error.
void validate_codebooks(const BcqParams& params, const Codebooks& books);

std::shared_ptr<const BlockFormat> make_bcq(const BcqParams& params, Codebooks books);

// The parameters and codebooks of a BCQ format, or nullptr for any other format (hardware
// units and kernels load the codebooks into their registers).
const BcqParams* bcq_params(const BlockFormat& format);
const Codebooks* bcq_codebooks(const BlockFormat& format);

// The scaled block values calibration works on: x / (s_j * g) for every scalar of `tensors`,
// with the same scales the encoder uses; all-zero and non-finite block arrays are skipped.
// At most `max_blocks` blocks are kept, sampled evenly with `seed` (0 = all).
std::vector<float> bcq_calibration_sample(const BcqParams& params,
                                          const std::vector<MatrixView>& tensors,
                                          std::int64_t max_blocks, std::uint64_t seed);

struct CalibrationOptions {
  int max_iterations = 30;
  double tolerance = 1e-4;     // stop when the relative MSE change falls below it
  std::uint64_t seed = 1;      // sampling and initialization
  std::int64_t max_blocks = std::int64_t{1} << 22;  // cap on the blocks used (4 M x L_b scalars)
  int threads = 0;             // 0: every core; results do not depend on it
};

struct CalibrationResult {
  Codebooks codebooks;
  std::vector<double> mse;  // per iteration, in the scaled domain; mse[0] is the initialization
};

// LO-BCQ. Initialization: blocks are ranked by their own amax in the scaled domain and split
// into N_c groups of equal size; each group's codebook starts as the 2^b-level Lloyd-Max
// quantizer of its scalars (grid-rounded). Then, until the relative MSE change is below the
// tolerance or max_iterations: (i) every block moves to its least-error codebook, (ii) every
// codebook's entries move to the centroids of the scalars nearest to them, rounded to the
// grid; an update that would raise a codebook's error is not taken, so the MSE never rises.
CalibrationResult calibrate_bcq(const BcqParams& params, const std::vector<MatrixView>& tensors,
                                const CalibrationOptions& options);

}  // namespace nibble

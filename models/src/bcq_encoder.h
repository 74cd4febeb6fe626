#pragma once
// The BCQ encoder shared by the format (bcq.cpp) and LO-BCQ calibration (bcq_calibrate.cpp).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "nibble/models/bcq.h"
#include "nibble/models/scale.h"
#include "nibble/models/tensor.h"

namespace nibble {

// Scales of block arrays (see bcq.h): the per-tensor factor g and, per array, the scale
// code and the divisor s g that maps scalars into the codebook domain (y = x / (s g): a
// multiplication by a rounded 1 / (s g) would move exact ties between entries).
class BcqScaler {
 public:
  BcqScaler(const BcqParams& params, MatrixView x);
  float tensor_scale() const { return g_; }
  const ScaleSpec& spec() const { return spec_; }
  // Scale code for an array with largest magnitude `amax` (finite).
  std::uint32_t scale_code(float amax) const;
  // At least the smallest subnormal: for arrays of subnormals s g can underflow to zero, and
  // 0 / 0 would turn their zeros into NaN. Floored, zeros stay zero and the others land on the
  // grid's ends.
  float divisor(std::uint32_t code) const {
    return std::max(spec_.decode(code) * g_, std::numeric_limits<float>::denorm_min());
  }

 private:
  ScaleSpec spec_;
  float grid_max_;
  float g_ = 1.0f;
};

class BcqEncoder {
 public:
  BcqEncoder(const BcqParams& params, const Codebooks& books);

  // Chooses the codebook for one block of scaled values (least squared error, ties to the
  // lowest index) and writes the entry index of every scalar. Returns the codebook.
  int encode_block(const float* y, int n, std::uint8_t* indices, float* error = nullptr) const;
  // Squared error of every codebook on one block, into errors[count].
  void block_errors(const float* y, int n, float* errors) const;
  int nearest(int book, float y) const;

 private:
  int cell(float y) const;

  const Codebooks& books_;
  bool integer_;
  int cells_ = 0, cell_offset_ = 0;
  // For integer entries every midpoint between entries is a multiple of 1/2, so the nearest
  // entry depends only on the cell floor(2 y): per cell, the entry (value and index) of
  // every codebook, laid out [cell][codebook] so one scalar reads one contiguous row.
  std::vector<float> cell_value_;
  std::vector<std::uint8_t> cell_index_;
};

}  // namespace nibble

#pragma once
// The BCQ encoder shared by the format (bcq.cpp) and LO-BCQ calibration (bcq_calibrate.cpp).
#include <algorithm>
#include <cmath>
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

// Integer codebooks in the form the vector encoder reads (bcq_encoder.cpp). Every midpoint
// between integer entries is a multiple of 1/2, so the nearest entry depends only on the
// cell floor(2 y) (clamped to the cells around the grid): per cell, the entry value and index
// of every codebook, laid out [cell][codebook] with `stride` >= count columns, so that one
// scalar reads one contiguous row; the columns past `count` hold a value so far off the grid
// that their squared error is +Inf and never chosen.
struct BcqCellTable {
  int count = 0, block = 0, stride = 0, cells = 0, cell_offset = 0;
  std::vector<float> values;
  std::vector<std::uint8_t> indices;
  // The cell of y: the vector encoder computes the same, lane by lane.
  int cell(float y) const {
    const float clamped = std::min(std::max(std::floor(2 * y), static_cast<float>(-cell_offset)),
                                   static_cast<float>(cells - cell_offset - 1));
    return static_cast<int>(clamped) + cell_offset;
  }
};

class BcqEncoder {
 public:
  BcqEncoder(const BcqParams& params, const Codebooks& books);

  // Encodes `blocks` consecutive blocks of L_b scalars y = x / divisor: per block the codebook
  // with the least squared error over its scalars (summed in FP32 in scalar order; ties to the
  // lowest index) into books[b], and per scalar its nearest entry's index into indices.
  // errors, when given, receives each block's squared error under its codebook.
  void encode_blocks(const float* x, float divisor, std::int64_t blocks, std::uint8_t* books,
                     std::uint8_t* indices, float* errors = nullptr) const;
  // One block under one codebook, for the centroid statistics: returns the squared error as
  // encode_blocks sums it, and writes the index of the entry of `book` nearest to each scalar
  // by |y - entry| in FP32 (ties: the larger entry), as a linear scan over the entries finds
  // it. (The encoded entry is the exactly nearest one; the two differ where FP32 rounding of
  // |y - entry| makes a false tie.)
  float block_statistics(int book, const float* y, std::uint8_t* nearest) const;

 private:
  int scan_nearest(int book, float y) const;

  const Codebooks& books_;
  int block_;
  bool integer_;
  BcqCellTable table_;
};

}  // namespace nibble

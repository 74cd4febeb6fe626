// The BCQ encoder (bcq_encoder.h). For integer codebooks one block costs, per scalar, one
// table row of every codebook's entry and a vector subtract-square-add over the codebooks
// (16 lanes of AVX-512 for the default N_c = 16), in Highway with runtime dispatch.
#include "bcq_encoder.h"

#include <cmath>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "bcq_encoder.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace nibble {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Scalars scaled and cut into cells per piece, so that both fit in a small stack buffer.
constexpr int kPieceScalars = 256;

void EncodeBlocks(const BcqCellTable& t, const float* x, float divisor, std::int64_t blocks,
                  std::uint8_t* books, std::uint8_t* indices, float* errors) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const int lanes = static_cast<int>(hn::Lanes(d));
  const int columns = (t.count + lanes - 1) / lanes * lanes;  // <= t.stride
  const int piece_blocks = std::max(1, kPieceScalars / t.block);
  HWY_ALIGN float y[kPieceScalars + 64];
  HWY_ALIGN std::int32_t row[kPieceScalars + 64];
  HWY_ALIGN float error[256];
  const auto vdivisor = hn::Set(d, divisor), two = hn::Set(d, 2.0f);
  const auto lowest = hn::Set(d, static_cast<float>(-t.cell_offset));
  const auto highest = hn::Set(d, static_cast<float>(t.cells - t.cell_offset - 1));
  // Row offsets (cell x stride < 2^16) are exact in FP32.
  const auto offset = hn::Set(d, static_cast<float>(t.cell_offset)), stride = hn::Set(d, static_cast<float>(t.stride));
  for (std::int64_t first = 0; first < blocks; first += piece_blocks) {
    const int n_blocks = static_cast<int>(std::min<std::int64_t>(piece_blocks, blocks - first));
    const int n = n_blocks * t.block;
    const float* in = x + first * t.block;
    int i = 0;
    for (; i + lanes <= n; i += lanes) {
      const auto v = hn::Div(hn::LoadU(d, in + i), vdivisor);
      hn::Store(v, d, y + i);
      const auto cell = hn::Min(hn::Max(hn::Floor(hn::Mul(two, v)), lowest), highest);
      hn::Store(hn::ConvertTo(di, hn::Mul(hn::Add(cell, offset), stride)), di, row + i);
    }
    for (; i < n; ++i) {
      y[i] = in[i] / divisor;
      row[i] = t.cell(y[i]) * t.stride;
    }
    for (int b = 0; b < n_blocks; ++b) {
      const float* yb = y + b * t.block;
      const std::int32_t* rb = row + b * t.block;
      auto least = hn::Set(d, HUGE_VALF);
      for (int c = 0; c < columns; c += lanes) {
        auto sum = hn::Zero(d);
        for (int k = 0; k < t.block; ++k) {
          const auto diff = hn::Sub(hn::Set(d, yb[k]), hn::LoadU(d, t.values.data() + rb[k] + c));
          sum = hn::Add(sum, hn::Mul(diff, diff));  // no FMA: the scalar encoder's roundings
        }
        hn::Store(sum, d, error + c);
        least = hn::Min(least, sum);
      }
      least = hn::MinOfLanes(d, least);
      int best = 0;
      for (int c = 0; c < columns; c += lanes) {
        const intptr_t lane = hn::FindFirstTrue(d, hn::Eq(hn::Load(d, error + c), least));
        if (lane >= 0) {
          best = c + static_cast<int>(lane);
          break;
        }
      }
      const std::int64_t block = first + b;
      books[block] = static_cast<std::uint8_t>(best);
      for (int k = 0; k < t.block; ++k) indices[block * t.block + k] = t.indices[rb[k] + best];
      if (errors) errors[block] = error[best];
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace nibble
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace nibble {

HWY_EXPORT(EncodeBlocks);

namespace {

// Columns per table row: a multiple of every target's float lanes (up to 2048-bit vectors).
constexpr int kColumnMultiple = 64;
// Squares to +Inf in FP32 from any scaled value, so a padding column never wins.
constexpr float kOffGrid = 1e30f;

}  // namespace

BcqEncoder::BcqEncoder(const BcqParams& params, const Codebooks& books)
    : books_(books), block_(params.block), integer_(!params.float_entries) {
  if (!integer_) return;
  const int m = params.grid_max() + 1;
  table_.count = books.count;
  table_.block = params.block;
  table_.stride = (books.count + kColumnMultiple - 1) / kColumnMultiple * kColumnMultiple;
  table_.cells = 4 * m;
  table_.cell_offset = 2 * m;
  table_.values.assign(static_cast<size_t>(table_.cells) * table_.stride, kOffGrid);
  table_.indices.assign(table_.values.size(), 0);
  for (int cell = 0; cell < table_.cells; ++cell) {
    const float centre = (static_cast<float>(cell - table_.cell_offset) + 0.5f) / 2;
    for (int c = 0; c < books.count; ++c) {
      const int k = scan_nearest(c, centre);
      table_.indices[static_cast<size_t>(cell) * table_.stride + c] = static_cast<std::uint8_t>(k);
      table_.values[static_cast<size_t>(cell) * table_.stride + c] = books.book(c)[k];
    }
  }
}

int BcqEncoder::scan_nearest(int book, float y) const {
  const float* e = books_.book(book);
  int best = 0;
  for (int k = 1; k < books_.entries; ++k) {
    if (std::fabs(y - e[k]) <= std::fabs(y - e[best])) best = k;  // ties: the larger entry
  }
  return best;
}

float BcqEncoder::block_statistics(int book, const float* y, std::uint8_t* nearest) const {
  const float* e = books_.book(book);
  float error = 0;
  for (int i = 0; i < block_; ++i) {
    int k;
    float value;
    if (integer_) {
      const size_t at = static_cast<size_t>(table_.cell(y[i])) * table_.stride + book;
      value = table_.values[at];
      // The cell's entry is exactly the nearest, so its rounded distance is the least; the
      // scan ends on the last entry at that rounded distance, and those follow it in order.
      k = table_.indices[at];
      while (k + 1 < books_.entries && std::fabs(y[i] - e[k + 1]) <= std::fabs(y[i] - e[k])) ++k;
    } else {
      k = scan_nearest(book, y[i]);
      value = e[k];
    }
    const float diff = y[i] - value;
    error += diff * diff;
    nearest[i] = static_cast<std::uint8_t>(k);
  }
  return error;
}

void BcqEncoder::encode_blocks(const float* x, float divisor, std::int64_t blocks,
                               std::uint8_t* books, std::uint8_t* indices, float* errors) const {
  if (integer_) {
    HWY_DYNAMIC_DISPATCH(EncodeBlocks)(table_, x, divisor, blocks, books, indices, errors);
    return;
  }
  std::vector<float> y(static_cast<size_t>(block_)), error(static_cast<size_t>(books_.count));
  for (std::int64_t b = 0; b < blocks; ++b) {
    for (int i = 0; i < block_; ++i) y[i] = x[b * block_ + i] / divisor;
    for (int c = 0; c < books_.count; ++c) {
      float sum = 0;
      for (int i = 0; i < block_; ++i) {
        const float diff = y[i] - books_.book(c)[scan_nearest(c, y[i])];
        sum += diff * diff;
      }
      error[c] = sum;
    }
    const int best = static_cast<int>(std::min_element(error.begin(), error.end()) - error.begin());
    books[b] = static_cast<std::uint8_t>(best);
    for (int i = 0; i < block_; ++i) indices[b * block_ + i] = static_cast<std::uint8_t>(scan_nearest(best, y[i]));
    if (errors) errors[b] = error[best];
  }
}

}  // namespace nibble
#endif

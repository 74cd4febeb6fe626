#pragma once
// What a systolic dataflow decides: how a GEMM is cut into folds, which operand elements each
// fold requests in which cycle, and in which order the read buffers prefetch them. Operand
// elements are named by their row-major index: ifmap A[m][k] -> m*K + k, filter B[k][n] ->
// k*N + n (SCALE-Sim's GEMM mapping: ifmap M x K, filter K x N, ofmap M x N).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <span>
#include <utility>

#include "../ceil_div.h"

namespace nibble::systolic {

struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
};

struct ArrayShape {
  int rows = 0, cols = 0;
};

// Columns of fold `f` of width `width` that hold real data when `extent` slots exist.
inline int used_width(std::int64_t f, int width, std::int64_t extent) {
  return static_cast<int>(std::min<std::int64_t>(width, extent - f * width));
}

// One operand's requests during a fold: a block of `rows` x `cols` requests that starts
// `first_row` cycles into the fold. Block row r, column c requests element
// base + r * row_stride + c * col_stride, at fold cycle first_row + r (+ c when skewed:
// column c enters the array c cycles after column 0).
struct DemandBlock {
  std::int64_t first_row = 0;
  std::int64_t rows = 0;
  int cols = 0;
  bool skewed = false;
  std::int64_t base = 0, row_stride = 0, col_stride = 0;

  // The block columns [begin, end) that request something in fold cycle t.
  std::pair<int, int> columns_at(std::int64_t t) const {
    const std::int64_t r = t - first_row;
    if (!skewed) return (r >= 0 && r < rows) ? std::pair{0, cols} : std::pair{0, 0};
    const std::int64_t begin = std::max<std::int64_t>(0, r - rows + 1);
    const std::int64_t end = std::min<std::int64_t>(cols, r + 1);
    return begin < end ? std::pair{static_cast<int>(begin), static_cast<int>(end)} : std::pair{0, 0};
  }
  std::int64_t element(std::int64_t t, int c) const {
    const std::int64_t r = t - first_row - (skewed ? c : 0);
    return base + r * row_stride + c * col_stride;
  }
};

struct Fold {
  std::int64_t cycles = 0;  // demand rows: every operand's block fits in them
  DemandBlock ifmap, filter, ofmap;
  std::int64_t macs = 0;    // used PEs x reduction length
  std::int64_t used_pes = 0;
  std::int64_t reported_cycles = 0;  // the fold length SCALE-Sim's compute utilization divides by
};

// The order a read buffer prefetches an operand: the folds' slices of the operand matrix
// stacked vertically (fold f holds `rows` x `width` slots; column c is used when
// f * width + c < extent) and walked row by row, or by anti-diagonals (the order a skewed
// array consumes them). Slot (f, r, c) holds element f*fold_stride + r*row_stride + c*col_stride.
struct PrefetchOrder {
  std::int64_t folds = 0;
  std::int64_t rows = 0;
  int width = 0;
  std::int64_t extent = 0;
  std::int64_t fold_stride = 0, row_stride = 0, col_stride = 0;
  bool diagonal = false;
  std::int64_t elements = 0;  // distinct elements of the operand (M*K or K*N)
};

class DataflowPlan {
 public:
  virtual ~DataflowPlan() = default;
  virtual std::int64_t fold_count() const = 0;
  virtual Fold fold(std::int64_t index) const = 0;  // in the order the array runs them
  virtual PrefetchOrder ifmap_prefetch() const = 0;
  virtual PrefetchOrder filter_prefetch() const = 0;
};

// The folds of a dataflow: row folds cut `row_extent` by the array height, column folds cut
// `col_extent` by its width; SCALE-Sim runs the row folds innermost.
class FoldGrid : public DataflowPlan {
 public:
  FoldGrid(const GemmShape& g, const ArrayShape& a, std::int64_t row_extent, std::int64_t col_extent)
      : g_(g),
        a_(a),
        row_extent_(row_extent),
        col_extent_(col_extent),
        row_folds_(ceil_div(row_extent, a.rows)),
        col_folds_(ceil_div(col_extent, a.cols)) {}
  std::int64_t fold_count() const override { return row_folds_ * col_folds_; }

 protected:
  struct Position {
    std::int64_t row_fold, col_fold;
    int used_rows, used_cols;  // array rows and columns holding data
  };
  Position position(std::int64_t index) const {
    const std::int64_t fr = index % row_folds_, fc = index / row_folds_;
    return {fr, fc, used_width(fr, a_.rows, row_extent_), used_width(fc, a_.cols, col_extent_)};
  }

  GemmShape g_;
  ArrayShape a_;
  std::int64_t row_extent_, col_extent_, row_folds_, col_folds_;
};

using DataflowFactory = std::unique_ptr<DataflowPlan> (*)(const GemmShape&, const ArrayShape&);

// One file per dataflow; dataflows.cpp lists them.
std::unique_ptr<DataflowPlan> output_stationary(const GemmShape& gemm, const ArrayShape& array);
std::unique_ptr<DataflowPlan> weight_stationary(const GemmShape& gemm, const ArrayShape& array);
std::unique_ptr<DataflowPlan> input_stationary(const GemmShape& gemm, const ArrayShape& array);

struct DataflowEntry {
  std::string_view name;
  DataflowFactory make;
};
const DataflowEntry* find_dataflow(std::string_view name);
std::span<const DataflowEntry> dataflows();

}  // namespace nibble::systolic

// Output stationary: PE (r, c) owns output (m, n) of the fold and accumulates over K; A rows
// stream in from the left and B columns from the top, both skewed, and the finished outputs
// drain row by row after the last K step.
#include "dataflow.h"

namespace nibble::systolic {
namespace {

class OutputStationary final : public FoldGrid {
 public:
  OutputStationary(const GemmShape& g, const ArrayShape& a) : FoldGrid(g, a, g.m, g.n) {}

  Fold fold(std::int64_t index) const override {
    const auto [fr, fc, used_rows, used_cols] = position(index);
    const std::int64_t k = g_.k;
    Fold f;
    f.cycles = k + a_.rows + a_.cols - 2;
    f.ifmap = {0, k, used_rows, true, fr * a_.rows * k, 1, k};
    f.filter = {0, k, used_cols, true, fc * a_.cols, g_.n, 1};
    // Outputs leave bottom row first, after the K-step; unused rows lead the flipped block.
    f.ofmap = {k - 1 + (a_.rows - used_rows), used_rows, used_cols, true, 0, 0, 0};
    f.used_pes = static_cast<std::int64_t>(used_rows) * used_cols;
    f.macs = f.used_pes * k;
    f.reported_cycles = k - 1 + a_.rows + a_.cols - 1;
    return f;
  }

  PrefetchOrder ifmap_prefetch() const override {
    return {row_folds_, g_.k, a_.rows, g_.m, a_.rows * g_.k, 1, g_.k, true, g_.m * g_.k};
  }
  PrefetchOrder filter_prefetch() const override {
    return {col_folds_, g_.k, a_.cols, g_.n, a_.cols, g_.n, 1, true, g_.k * g_.n};
  }
};

}  // namespace

std::unique_ptr<DataflowPlan> output_stationary(const GemmShape& gemm, const ArrayShape& array) {
  return std::make_unique<OutputStationary>(gemm, array);
}

}  // namespace nibble::systolic

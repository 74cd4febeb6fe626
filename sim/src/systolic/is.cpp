// Input stationary: a K x M slice of A (transposed) is loaded into the array, then the columns
// of B stream through, skewed; as in weight stationary, every K-fold writes partial outputs.
#include "dataflow.h"

namespace nibble::systolic {
namespace {

class InputStationary final : public FoldGrid {
 public:
  InputStationary(const GemmShape& g, const ArrayShape& a) : FoldGrid(g, a, g.k, g.m) {}

  Fold fold(std::int64_t index) const override {
    const auto [fr, fc, used_rows, used_cols] = position(index);
    const std::int64_t n = g_.n, k = g_.k;
    Fold f;
    f.cycles = 2 * a_.rows + a_.cols + n - 2;
    f.ifmap = {a_.rows - used_rows, used_rows, used_cols, false,
               fc * a_.cols * k + fr * a_.rows + used_rows - 1, -1, k};
    f.filter = {a_.rows, n, used_rows, true, fr * a_.rows * n, 1, n};
    f.ofmap = {2 * a_.rows - 1, n, used_cols, true, 0, 0, 0};
    f.used_pes = static_cast<std::int64_t>(used_rows) * used_cols;
    f.macs = f.used_pes * n;
    f.reported_cycles = f.cycles + a_.cols - 1;
    return f;
  }

  PrefetchOrder ifmap_prefetch() const override {
    return {col_folds_, g_.k, a_.cols, g_.m, a_.cols * g_.k, 1, g_.k, false, g_.m * g_.k};
  }
  PrefetchOrder filter_prefetch() const override {
    return {row_folds_, g_.n, a_.rows, g_.k, a_.rows * g_.n, 1, g_.n, true, g_.k * g_.n};
  }
};

}  // namespace

std::unique_ptr<DataflowPlan> input_stationary(const GemmShape& gemm, const ArrayShape& array) {
  return std::make_unique<InputStationary>(gemm, array);
}

}  // namespace nibble::systolic

// Weight stationary: a K x N slice of B is loaded into the array (bottom row first), then the
// rows of A stream through, skewed; each fold writes its partial outputs, so the ofmap buffer
// sees M x N outputs once per K-fold.
#include "dataflow.h"

namespace nibble::systolic {
namespace {

class WeightStationary final : public FoldGrid {
 public:
  WeightStationary(const GemmShape& g, const ArrayShape& a) : FoldGrid(g, a, g.k, g.n) {}

  Fold fold(std::int64_t index) const override {
    const auto [fr, fc, used_rows, used_cols] = position(index);
    const std::int64_t m = g_.m, n = g_.n;
    Fold f;
    f.cycles = 2 * a_.rows + a_.cols + m - 2;
    f.ifmap = {a_.rows, m, used_rows, true, fr * a_.rows, g_.k, 1};
    f.filter = {a_.rows - used_rows, used_rows, used_cols, false,
                (fr * a_.rows + used_rows - 1) * n + fc * a_.cols, -n, 1};
    f.ofmap = {2 * a_.rows - 1, m, used_cols, true, 0, 0, 0};
    f.used_pes = static_cast<std::int64_t>(used_rows) * used_cols;
    f.macs = f.used_pes * m;
    f.reported_cycles = f.cycles + a_.cols - 1;
    return f;
  }

  PrefetchOrder ifmap_prefetch() const override {
    return {row_folds_, g_.m, a_.rows, g_.k, a_.rows, g_.k, 1, true, g_.m * g_.k};
  }
  PrefetchOrder filter_prefetch() const override {
    return {col_folds_, g_.k, a_.cols, g_.n, a_.cols, g_.n, 1, false, g_.k * g_.n};
  }
};

}  // namespace

std::unique_ptr<DataflowPlan> weight_stationary(const GemmShape& gemm, const ArrayShape& array) {
  return std::make_unique<WeightStationary>(gemm, array);
}

}  // namespace nibble::systolic

// osplus: channel-wise shifting and scaling (transform.h). Wei et al., "Outlier Suppression+:
// Accurate quantization of large language models by equivalent and optimal shifting and
// scaling", EMNLP 2023: shift z = (max + min) / 2, scale s_j = max(1, range_j / t) with t
// searched for the least quantized output error.
#include <cmath>
#include <limits>

#include "nibble/models/blas.h"
#include "transforms.h"

namespace nibble {
namespace {

class OsPlus final : public Transform {
 public:
  explicit OsPlus(FormatOptions& options)
      : grid_(static_cast<int>(options.get_int("grid", 20, 1, 1000))), name_(options.canonical()) {}
  std::string name() const override { return name_; }
  std::unique_ptr<FittedTransform> fit(MatrixView x, MatrixView w, const BlockFormat* x_format,
                                       const BlockFormat* w_format) const override {
    const ChannelStats stats = channel_stats(x, w);
    const size_t k = stats.w_absmax.size();
    std::vector<float> shift(k, 0.0f), range(k, 0.0f);
    float largest = 0;
    for (size_t j = 0; j < k; ++j) {
      if (!std::isfinite(stats.x_min[j]) || !std::isfinite(stats.x_max[j])) continue;
      shift[j] = stats.x_min[j] / 2 + stats.x_max[j] / 2;
      range[j] = std::max(stats.x_max[j] - shift[j], shift[j] - stats.x_min[j]);
      largest = std::max(largest, range[j]);
    }
    const Matrix reference = matmul_nt(x, w);  // X W^T; the bias b' - b restores the shift
    std::unique_ptr<ChannelScaling> best;
    double best_error = std::numeric_limits<double>::infinity();
    for (int g = 1; g <= grid_; ++g) {
      const float t = largest * static_cast<float>(g) / static_cast<float>(grid_);
      std::vector<float> scale(k, 1.0f);
      for (size_t j = 0; j < k; ++j) {
        if (t > 0) scale[j] = std::max(1.0f, range[j] / t);
      }
      auto candidate = std::make_unique<ChannelScaling>(shift, scale);
      const Matrix y = matmul_nt(fake_quantize(x_format, candidate->activations(x)),
                                 fake_quantize(w_format, candidate->weights(w)));
      const std::vector<float> bias = candidate->bias(w);
      double error = 0;
      for (std::int64_t r = 0; r < y.rows; ++r) {
        for (std::int64_t c = 0; c < y.cols; ++c) {
          const double e = static_cast<double>(y.row(r)[c]) + bias[static_cast<size_t>(c)] - reference.row(r)[c];
          error += e * e;
        }
      }
      if (error < best_error || !best) {  // ties keep the smaller threshold
        best_error = error;
        best = std::move(candidate);
      }
    }
    return best;
  }

 private:
  int grid_;
  std::string name_;
};

}  // namespace

std::shared_ptr<const Transform> make_osplus(FormatOptions& options) { return std::make_shared<OsPlus>(options); }

}  // namespace nibble

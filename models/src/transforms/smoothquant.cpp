// smoothquant: per-channel difficulty migration from activations to weights (transform.h).
// Xiao et al., "SmoothQuant: Accurate and Efficient Post-Training Quantization for Large
// Language Models", ICML 2023, eq. (4).
#include <cmath>

#include "transforms.h"

namespace nibble {
namespace {

class SmoothQuant final : public Transform {
 public:
  explicit SmoothQuant(FormatOptions& options)
      : alpha_(options.get_real("alpha", 0.5, 0.0, 1.0)), name_(options.canonical()) {}
  std::string name() const override { return name_; }
  std::unique_ptr<FittedTransform> fit(MatrixView x, MatrixView w, const BlockFormat*, const BlockFormat*) const override {
    const ChannelStats stats = channel_stats(x, w);
    std::vector<float> scale(stats.w_absmax.size(), 1.0f);
    for (size_t j = 0; j < scale.size(); ++j) {
      const double xa = std::max(std::fabs(stats.x_min[j]), std::fabs(stats.x_max[j])), wa = stats.w_absmax[j];
      if (xa > 0 && wa > 0 && std::isfinite(xa)) {
        scale[j] = static_cast<float>(std::pow(xa, alpha_) / std::pow(wa, 1 - alpha_));
      }
    }
    return std::make_unique<ChannelScaling>(std::vector<float>{}, std::move(scale));
  }

 private:
  double alpha_;
  std::string name_;
};

}  // namespace

std::shared_ptr<const Transform> make_smoothquant(FormatOptions& options) { return std::make_shared<SmoothQuant>(options); }

}  // namespace nibble

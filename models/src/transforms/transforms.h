#pragma once
// The transforms behind make_transform (one file each) and the per-channel shift-and-scale
// that SmoothQuant and OS+ share.
#include <memory>
#include <vector>

#include "../format_options.h"
#include "nibble/models/transform.h"

namespace nibble {

// X' = (X - z) diag(1/s), W' = W diag(s), b' - b = W z (z empty: no shift).
class ChannelScaling final : public FittedTransform {
 public:
  ChannelScaling(std::vector<float> shift, std::vector<float> scale)
      : shift_(std::move(shift)), scale_(std::move(scale)) {}
  Matrix activations(MatrixView x) const override;
  Matrix weights(MatrixView w) const override;
  std::vector<float> bias(MatrixView w) const override;

 private:
  std::vector<float> shift_, scale_;
};

// Per input channel j of x [M, K]: min and max over the rows; of w [N, K]: max |w_ij|.
struct ChannelStats {
  std::vector<float> x_min, x_max, w_absmax;
};
ChannelStats channel_stats(MatrixView x, MatrixView w);

std::shared_ptr<const Transform> make_hadamard(FormatOptions& options);
std::shared_ptr<const Transform> make_smoothquant(FormatOptions& options);
std::shared_ptr<const Transform> make_osplus(FormatOptions& options);

}  // namespace nibble

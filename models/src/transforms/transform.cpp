#include <algorithm>
#include <cmath>

#include "nibble/models/error.h"
#include "transforms.h"

namespace nibble {
namespace {

void check_channels(MatrixView x, MatrixView w) {
  if (x.cols != w.cols) {
    throw Error("transform: activations have " + std::to_string(x.cols) + " channels, the weight " +
                std::to_string(w.cols));
  }
}

// Left to right: each transform is fitted to the operands the previous ones produced.
class Chain final : public Transform {
 public:
  explicit Chain(std::vector<std::shared_ptr<const Transform>> parts) : parts_(std::move(parts)) {}
  std::string name() const override {
    std::string n;
    for (const auto& p : parts_) {
      if (!n.empty()) n += '+';
      n += p->name();
    }
    return n;
  }
  bool needs_calibration() const override {
    return std::any_of(parts_.begin(), parts_.end(), [](const auto& p) { return p->needs_calibration(); });
  }
  std::unique_ptr<FittedTransform> fit(MatrixView x, MatrixView w, const BlockFormat* x_format,
                                       const BlockFormat* w_format) const override;

 private:
  std::vector<std::shared_ptr<const Transform>> parts_;
};

class FittedChain final : public FittedTransform {
 public:
  Matrix activations(MatrixView x) const override {
    Matrix m = fake_quantize(nullptr, x);
    for (const auto& p : parts_) m = p->activations(m);
    return m;
  }
  Matrix weights(MatrixView w) const override {
    Matrix m = fake_quantize(nullptr, w);
    for (const auto& p : parts_) m = p->weights(m);
    return m;
  }
  // Each part's bias is computed from the weight as that part sees it.
  std::vector<float> bias(MatrixView w) const override {
    std::vector<float> total;
    Matrix m = fake_quantize(nullptr, w);
    for (const auto& p : parts_) {
      const std::vector<float> b = p->bias(m);
      if (!b.empty()) {
        total.resize(b.size(), 0.0f);
        for (size_t i = 0; i < b.size(); ++i) total[i] += b[i];
      }
      m = p->weights(m);
    }
    return total;
  }
  std::vector<std::unique_ptr<FittedTransform>> parts_;
};

std::unique_ptr<FittedTransform> Chain::fit(MatrixView x, MatrixView w, const BlockFormat* x_format,
                                            const BlockFormat* w_format) const {
  check_channels(x, w);
  auto fitted = std::make_unique<FittedChain>();
  Matrix xs = fake_quantize(nullptr, x), ws = fake_quantize(nullptr, w);
  for (const auto& p : parts_) {
    fitted->parts_.push_back(p->fit(xs, ws, x_format, w_format));
    xs = fitted->parts_.back()->activations(xs);
    ws = fitted->parts_.back()->weights(ws);
  }
  return fitted;
}

}  // namespace

Matrix ChannelScaling::activations(MatrixView x) const {
  Matrix out(x.rows, x.cols);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t j = 0; j < x.cols; ++j) {
      const float shifted = shift_.empty() ? x.row(r)[j] : x.row(r)[j] - shift_[static_cast<size_t>(j)];
      out.row(r)[j] = shifted / scale_[static_cast<size_t>(j)];
    }
  }
  return out;
}

Matrix ChannelScaling::weights(MatrixView w) const {
  Matrix out(w.rows, w.cols);
  for (std::int64_t r = 0; r < w.rows; ++r) {
    for (std::int64_t j = 0; j < w.cols; ++j) out.row(r)[j] = w.row(r)[j] * scale_[static_cast<size_t>(j)];
  }
  return out;
}

std::vector<float> ChannelScaling::bias(MatrixView w) const {
  if (shift_.empty()) return {};
  std::vector<float> b(static_cast<size_t>(w.rows));
  for (std::int64_t r = 0; r < w.rows; ++r) {
    double sum = 0;
    for (std::int64_t j = 0; j < w.cols; ++j) sum += static_cast<double>(w.row(r)[j]) * shift_[static_cast<size_t>(j)];
    b[static_cast<size_t>(r)] = static_cast<float>(sum);
  }
  return b;
}

ChannelStats channel_stats(MatrixView x, MatrixView w) {
  check_channels(x, w);
  ChannelStats s{std::vector<float>(static_cast<size_t>(x.cols), INFINITY),
                 std::vector<float>(static_cast<size_t>(x.cols), -INFINITY),
                 std::vector<float>(static_cast<size_t>(x.cols), 0.0f)};
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t j = 0; j < x.cols; ++j) {
      s.x_min[static_cast<size_t>(j)] = std::min(s.x_min[static_cast<size_t>(j)], x.row(r)[j]);
      s.x_max[static_cast<size_t>(j)] = std::max(s.x_max[static_cast<size_t>(j)], x.row(r)[j]);
    }
  }
  for (std::int64_t r = 0; r < w.rows; ++r) {
    for (std::int64_t j = 0; j < w.cols; ++j) {
      s.w_absmax[static_cast<size_t>(j)] = std::max(s.w_absmax[static_cast<size_t>(j)], std::fabs(w.row(r)[j]));
    }
  }
  return s;
}

std::shared_ptr<const Transform> make_transform(std::string_view name) {
  std::vector<std::shared_ptr<const Transform>> parts;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t plus = name.find('+', start);
    const std::string_view part = name.substr(start, plus == std::string_view::npos ? std::string_view::npos : plus - start);
    FormatOptions options(part);
    std::shared_ptr<const Transform> t;
    if (options.base() == "hadamard") t = make_hadamard(options);
    else if (options.base() == "smoothquant") t = make_smoothquant(options);
    else if (options.base() == "osplus") t = make_osplus(options);
    else throw Error("unknown transform '" + options.base() + "' (known: hadamard, smoothquant, osplus)");
    options.finish();
    parts.push_back(std::move(t));
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  if (parts.size() == 1) return parts.front();
  return std::make_shared<Chain>(std::move(parts));
}

}  // namespace nibble

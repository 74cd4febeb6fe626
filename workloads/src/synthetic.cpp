#include "nibble/workloads/synthetic.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "nibble/models/error.h"

namespace nibble {
namespace {

class Sampler {
 public:
  explicit Sampler(std::uint64_t seed) : engine_(seed) {}

  // Uniform in (0, 1): 53 random bits, offset by half a step so 0 and 1 never occur.
  double uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1p-53; }

  double normal() {  // Box-Muller, one value per pair of uniforms
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    return r * std::cos(2.0 * std::numbers::pi * uniform());
  }

  double laplace() {
    const double u = uniform() - 0.5;
    const double b = 1.0 / std::numbers::sqrt2;
    return (u < 0 ? 1.0 : -1.0) * b * std::log(1.0 - 2.0 * std::fabs(u));
  }

  double student_t(int nu) {
    double chi2 = 0;
    for (int i = 0; i < nu; ++i) {
      const double z = normal();
      chi2 += z * z;
    }
    return normal() / std::sqrt(chi2 / nu);
  }

  double log_normal(double sigma) { return std::exp(sigma * normal()); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace

const std::vector<std::string>& synthetic_distributions() {
  static const std::vector<std::string> names = {"gaussian", "laplace", "student-t", "llm-act",
                                                 "llm-weight"};
  return names;
}

std::vector<std::int64_t> llm_act_outlier_channels(std::int64_t cols, std::uint64_t seed) {
  Sampler pick(seed ^ 0x9E3779B97F4A7C15ull);
  const std::int64_t count = std::min<std::int64_t>(cols, std::max<std::int64_t>(2, cols / 200));
  std::vector<std::int64_t> channels;
  while (static_cast<std::int64_t>(channels.size()) < count) {
    const auto c = static_cast<std::int64_t>(pick.uniform() * static_cast<double>(cols));
    if (std::find(channels.begin(), channels.end(), c) == channels.end()) channels.push_back(c);
  }
  std::sort(channels.begin(), channels.end());
  return channels;
}

Matrix synthetic_tensor(std::string_view distribution, std::int64_t rows, std::int64_t cols,
                        std::uint64_t seed) {
  if (rows <= 0 || cols <= 0) {
    throw Error("synthetic tensor shape must be positive, got " + std::to_string(rows) + " x " +
                std::to_string(cols));
  }
  Matrix m(rows, cols);
  Sampler s(seed);
  if (distribution == "gaussian") {
    for (float& v : m.data) v = static_cast<float>(s.normal());
  } else if (distribution == "laplace") {
    for (float& v : m.data) v = static_cast<float>(s.laplace());
  } else if (distribution == "student-t") {
    for (float& v : m.data) v = static_cast<float>(s.student_t(3));
  } else if (distribution == "llm-act") {
    std::vector<double> channel_scale(static_cast<size_t>(cols), 1.0);
    Sampler outliers(seed + 1);
    for (std::int64_t c : llm_act_outlier_channels(cols, seed)) {
      channel_scale[c] = 20.0 + 80.0 * outliers.uniform();
    }
    for (std::int64_t r = 0; r < rows; ++r) {
      const double token_scale = s.log_normal(0.5);
      float* row = m.row(r);
      for (std::int64_t c = 0; c < cols; ++c) {
        row[c] = static_cast<float>(s.normal() * token_scale * channel_scale[c]);
      }
    }
  } else if (distribution == "llm-weight") {
    for (std::int64_t r = 0; r < rows; ++r) {
      const double row_scale = 0.02 * s.log_normal(0.4);
      float* row = m.row(r);
      for (std::int64_t c = 0; c < cols; ++c) row[c] = static_cast<float>(row_scale * s.student_t(5));
    }
  } else {
    std::string known;
    for (const auto& name : synthetic_distributions()) known += (known.empty() ? "" : ", ") + name;
    throw Error("unknown distribution '" + std::string(distribution) + "' (known: " + known + ")");
  }
  return m;
}

}  // namespace nibble

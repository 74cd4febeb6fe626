#include "nibble/workloads/gemm_accuracy.h"

#include <cmath>
#include <limits>

#include "nibble/models/blas.h"
#include "nibble/models/dot.h"
#include "nibble/models/error.h"
#include "nibble/workloads/lm.h"

namespace nibble {
namespace {

GemmError output_error(const std::vector<double>& exact, const Matrix& y) {
  double signal = 0, noise = 0, max_abs = 0;
  for (size_t i = 0; i < exact.size(); ++i) {
    const double e = static_cast<double>(y.data[i]) - exact[i];
    signal += exact[i] * exact[i];
    noise += e * e;
    max_abs = std::isnan(e) ? e : std::max(max_abs, std::fabs(e));
  }
  GemmError r;
  r.mse = noise / static_cast<double>(exact.size());
  r.max_abs_error = max_abs;
  r.snr_db = noise == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / noise);
  if (std::isnan(noise) || std::isnan(signal)) r.snr_db = r.mse = r.max_abs_error = std::numeric_limits<double>::quiet_NaN();
  return r;
}

}  // namespace

GemmEngine gemm_engine_from_name(std::string_view name) {
  if (name == "blas") return GemmEngine::kBlas;
  if (name == "golden") return GemmEngine::kGolden;
  throw Error("unknown GEMM engine '" + std::string(name) + "' (known: blas, golden)");
}

Matrix quantized_product(MatrixView x, MatrixView w, const BlockFormat* x_format,
                         const BlockFormat* w_format, GemmEngine engine) {
  if (engine == GemmEngine::kBlas) return matmul_nt(fake_quantize(x_format, x), fake_quantize(w_format, w));
  if (!x_format || !w_format) throw Error("the golden GEMM needs both operands quantized (no FP32 operand)");
  return golden_gemm(x_format->quantize(x), w_format->quantize(w));
}

GemmError gemm_error(MatrixView x, MatrixView w, const BlockFormat* x_format,
                     const BlockFormat* w_format, const FittedTransform* transform, GemmEngine engine) {
  if (x.cols != w.cols) {
    throw Error("GEMM operands disagree on K: X is " + std::to_string(x.rows) + " x " + std::to_string(x.cols) +
                ", W is " + std::to_string(w.rows) + " x " + std::to_string(w.cols));
  }
  if (!transform) return output_error(matmul_nt_f64(x, w), quantized_product(x, w, x_format, w_format, engine));
  Matrix y = quantized_product(transform->activations(x), transform->weights(w), x_format, w_format, engine);
  const std::vector<float> bias = transform->bias(w);
  if (!bias.empty()) {
    for (std::int64_t r = 0; r < y.rows; ++r) {
      for (std::int64_t c = 0; c < y.cols; ++c) y.row(r)[c] += bias[static_cast<size_t>(c)];
    }
  }
  return output_error(matmul_nt_f64(x, w), y);
}

GemmError attention_error(const Matrix& q, const Matrix& k, const Matrix& v, int n_heads,
                          int n_kv_heads, const KvFormat& kv) {
  const Matrix exact = cached_attention(q, k, v, n_heads, n_kv_heads, nullptr);
  return output_error(std::vector<double>(exact.data.begin(), exact.data.end()),
                      cached_attention(q, k, v, n_heads, n_kv_heads, &kv));
}

}  // namespace nibble

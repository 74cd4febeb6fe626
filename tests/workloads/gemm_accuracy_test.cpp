// GEMM-output SNR through OpenBLAS, bounded against the golden GEMM; KV formats on attention.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "nibble/models/blas.h"
#include "nibble/models/dot.h"
#include "nibble/models/kv_format.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/gemm_accuracy.h"
#include "nibble/workloads/lm.h"
#include "nibble/workloads/synthetic.h"

namespace nibble {
namespace {

// Both products approximate the exact dot of the dequantized operands: OpenBLAS's FP32 sum of
// K products within K u sum|x_i w_i| (u = 2^-24, a standard bound for any summation order),
// the golden dot within (blocks + 1) u sum|x_i w_i| (one rounding per block partial and per
// accumulation, one for the tensor scales); so they differ by at most the sum of both.
TEST(GemmAccuracy, BlasGemmOfDequantizedOperandsIsWithinRoundingOfTheGoldenGemm) {
  const Matrix x = synthetic_tensor("llm-act", 12, 512, 5), w = synthetic_tensor("llm-weight", 20, 512, 6);
  for (const char* name : {"mxfp4", "nvfp4", "mxint8", "int4_g128", "nvint4"}) {
    SCOPED_TRACE(name);
    const auto format = make_format(name);
    const QuantizedTensor qx = format->quantize(x), qw = format->quantize(w);
    const Matrix dx = format->dequantize(qx), dw = format->dequantize(qw);
    const Matrix blas = matmul_nt(dx, dw), golden = golden_gemm(qx, qw, Accumulator::kFp32, 1);
    const double blocks = static_cast<double>(qx.blocks_per_row());
    double largest_gap = 0;
    for (std::int64_t i = 0; i < x.rows; ++i) {
      for (std::int64_t j = 0; j < w.rows; ++j) {
        double magnitude = 0;
        for (std::int64_t k = 0; k < x.cols; ++k) magnitude += std::fabs(static_cast<double>(dx.row(i)[k]) * dw.row(j)[k]);
        const double bound = (static_cast<double>(x.cols) + blocks + 2) * std::ldexp(1.0, -24) * magnitude;
        const double gap = std::fabs(static_cast<double>(blas.row(i)[j]) - golden.row(i)[j]);
        EXPECT_LE(gap, bound) << i << "," << j;
        largest_gap = std::max(largest_gap, gap / bound);
      }
    }
    RecordProperty(std::string(name) + "_gap_over_bound", std::to_string(largest_gap));
  }
}

TEST(GemmAccuracy, SnrOrdersFormatsAndFp32IsNearlyExact) {
  const Matrix x = synthetic_tensor("llm-act", 32, 1024, 1), w = synthetic_tensor("llm-weight", 48, 1024, 2);
  const double fp32 = gemm_error(x, w, nullptr, nullptr).snr_db;
  // FP32 rounding alone: relative error ~ sqrt(K) 2^-24 per output, so ~ 144 - 15 dB.
  EXPECT_GT(fp32, 110);
  const auto snr = [&](const char* name) {
    const auto f = make_format(name);
    return gemm_error(x, w, f.get(), f.get()).snr_db;
  };
  const double mxint8 = snr("mxint8"), nvfp4 = snr("nvfp4"), mxfp4 = snr("mxfp4");
  EXPECT_GT(mxint8, nvfp4 + 10);
  EXPECT_GT(nvfp4, mxfp4);  // finer blocks and scales
  EXPECT_GT(mxfp4, 5);
  // Quantizing only one operand costs less than quantizing both.
  const auto f = make_format("mxfp4");
  EXPECT_GT(gemm_error(x, w, nullptr, f.get()).snr_db, mxfp4);
  expect_error([&] { gemm_error(x, synthetic_tensor("llm-weight", 4, 512, 1), nullptr, nullptr); }, {"disagree on K", "1024", "512"});
}

TEST(GemmAccuracy, AttentionErrorOfKvFormats) {
  const Matrix q = synthetic_tensor("gaussian", 64, 64, 1), k = synthetic_tensor("llm-act", 64, 32, 2),
               v = synthetic_tensor("gaussian", 64, 32, 3);
  // Everything within the FP16 residual window: the error is FP16 rounding only.
  const auto fp16_window = make_kv_format("kivi:bits=2:residual=1000");
  EXPECT_GT(attention_error(q, k, v, 4, 2, *fp16_window).snr_db, 60);
  const double two = attention_error(q, k, v, 4, 2, *make_kv_format("kivi:bits=2:residual=0")).snr_db;
  const double four = attention_error(q, k, v, 4, 2, *make_kv_format("kivi:bits=4:residual=0")).snr_db;
  EXPECT_GT(four, two + 6);
  expect_error([&] { attention_error(q, k, v, 3, 2, *fp16_window); }, {"do not fit"});
}

}  // namespace
}  // namespace nibble

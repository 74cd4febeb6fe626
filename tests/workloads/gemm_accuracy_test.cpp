// GEMM-output SNR through OpenBLAS, bounded against the golden GEMM; KV formats on attention.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "expect_error.h"
#include "nibble/models/blas.h"
#include "nibble/models/dot.h"
#include "nibble/models/kv_format.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/gemm_accuracy.h"
#include "nibble/workloads/llama2c.h"
#include "nibble/workloads/lm.h"
#include "nibble/workloads/synthetic.h"

namespace nibble {
namespace {

const std::string kLm = NIBBLE_SOURCE_DIR "/../shared/lm/";

void write_raw(const std::string& path, const Matrix& m) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(m.data.data()), static_cast<std::streamsize>(m.data.size() * sizeof(float)));
}

std::vector<double> read_raw_f64(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<double> v(static_cast<size_t>(in.tellg()) / sizeof(double));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
  return v;
}

// Both products approximate the exact dot of the dequantized operands: OpenBLAS's FP32 sum of
// K products within K u sum|x_i w_i| (u = 2^-24, a standard bound for any summation order),
// the golden dot within (blocks + 1) u sum|x_i w_i| (one rounding per block partial and per
// accumulation, one for the tensor scales); so they differ by at most the sum of both.
// Checks every output of the two engines against that bound; returns the bounds' 2-norm.
double expect_engines_within_rounding(const BlockFormat& format, MatrixView x, MatrixView w) {
  const Matrix blas = quantized_product(x, w, &format, &format, GemmEngine::kBlas);
  const Matrix golden = quantized_product(x, w, &format, &format, GemmEngine::kGolden);
  const Matrix dx = fake_quantize(&format, x), dw = fake_quantize(&format, w);
  const double blocks = static_cast<double>((x.cols + format.info().block - 1) / format.info().block);
  double largest_gap = 0, bound_norm2 = 0;
  for (std::int64_t i = 0; i < x.rows; ++i) {
    for (std::int64_t j = 0; j < w.rows; ++j) {
      double magnitude = 0;
      for (std::int64_t k = 0; k < x.cols; ++k) magnitude += std::fabs(static_cast<double>(dx.row(i)[k]) * dw.row(j)[k]);
      const double bound = (static_cast<double>(x.cols) + blocks + 2) * std::ldexp(1.0, -24) * magnitude;
      const double gap = std::fabs(static_cast<double>(blas.row(i)[j]) - golden.row(i)[j]);
      EXPECT_LE(gap, bound) << i << "," << j;
      largest_gap = std::max(largest_gap, gap / bound);
      bound_norm2 += bound * bound;
    }
  }
  ::testing::Test::RecordProperty(format.info().name + "_gap_over_bound", std::to_string(largest_gap));
  return std::sqrt(bound_norm2);
}

TEST(GemmAccuracy, BlasGemmOfDequantizedOperandsIsWithinRoundingOfTheGoldenGemm) {
  const Matrix x = synthetic_tensor("llm-act", 12, 512, 5), w = synthetic_tensor("llm-weight", 20, 512, 6);
  for (const char* name : {"mxfp4", "nvfp4", "mxint8", "int4_g128", "nvint4"}) {
    SCOPED_TRACE(name);
    expect_engines_within_rounding(*make_format(name), x, w);
  }
}

// The real case: layer 0 of babyllama-361 on TinyStories text, each linear layer with the
// activations that enter it (K = 128 and, for w2, K = 352: partial blocks of 64 and 128).
// The output SNR of the two engines then differs by what the summation gap can move it: with
// noise N (sum of squared errors) of the golden engine and gap norm beta, the BLAS noise's
// root lies within sqrt(N) +- beta, so |SNR_blas - SNR_golden| <= -20 log10(1 - beta / sqrt(N)).
TEST(GemmAccuracy, BlasAndGoldenEnginesAgreeOnARealModel) {
  const Llama2cCheckpoint checkpoint(kLm + "babyllama-361.bin");
  const Tokenizer tokenizer(kLm + "tokenizer-361.bin", checkpoint.config().vocab_size);
  std::vector<int> tokens = tokenizer.encode("Once upon a time, there was a little girl named Lily. She loved to play outside in the sun.", true);
  std::vector<LayerActivations> layers;
  LlamaModel(checkpoint, {}).forward(tokens, &layers);
  const LayerActivations& a = layers[0];
  const LlamaLayerWeights& l = checkpoint.layer(0);
  const std::pair<MatrixView, MatrixView> gemms[] = {{a.attention_input, l.wq}, {a.ffn_hidden, l.w2}};
  for (const auto& [x, w] : gemms) {
    for (const char* name : {"mxfp4", "nvfp4", "int4_g128", "bcq", "mxint8"}) {
      SCOPED_TRACE(std::string(name) + " K=" + std::to_string(x.cols));
      const auto format = make_format(name);
      const double beta = expect_engines_within_rounding(*format, x, w);
      const GemmError blas = gemm_error(x, w, format.get(), format.get(), nullptr, GemmEngine::kBlas);
      const GemmError golden = gemm_error(x, w, format.get(), format.get(), nullptr, GemmEngine::kGolden);
      const double noise_root = std::sqrt(golden.mse * static_cast<double>(x.rows * w.rows));
      ASSERT_LT(beta, noise_root);
      EXPECT_LE(std::fabs(blas.snr_db - golden.snr_db), -20 * std::log10(1 - beta / noise_root));
    }
  }
  expect_error([&] { gemm_error(a.attention_input, l.wq, nullptr, make_format("mxfp4").get(), nullptr, GemmEngine::kGolden); },
               {"golden GEMM needs both operands quantized"});
}

// Against the independent NumPy quantizers of tests/reference/formats_reference.py: Y = dq(X)
// dq(W)^T and A = |dq(X)| |dq(W)|^T in float64 (each product of FP32 values exact, the sum
// within K 2^-53 A). OpenBLAS's FP32 sum is within K 2^-24 A of the exact product, the golden
// GEMM within (blocks + 1) 2^-24 A; the float64 sum adds its K 2^-53 A to each bound.
TEST(GemmAccuracy, BothEnginesMatchTheNumpyReferenceOnARealModel) {
  const Llama2cCheckpoint checkpoint(kLm + "babyllama-361.bin");
  const Tokenizer tokenizer(kLm + "tokenizer-361.bin", checkpoint.config().vocab_size);
  std::vector<LayerActivations> layers;
  LlamaModel(checkpoint, {}).forward(tokenizer.encode("The cat sat on the warm mat and purred.", true), &layers);
  const Matrix x = layers[1].ffn_hidden, w = fake_quantize(nullptr, checkpoint.layer(1).w2);  // K = 352
  const std::string dir = std::filesystem::temp_directory_path() / ("nibble_gemm_reference_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  write_raw(dir + "/x.f32", x);
  write_raw(dir + "/w.f32", w);
  const double k = static_cast<double>(x.cols);
  for (const char* name : {"mxfp4", "nvfp4", "int4_g128", "mxint8", "nvint4"}) {
    SCOPED_TRACE(name);
    const std::string out = dir + "/" + name + ".f64";
    const std::string command = std::string(NIBBLE_PYTHON) + " " NIBBLE_SOURCE_DIR "/tests/reference/formats_reference.py gemm " +
                                name + " " + std::to_string(x.rows) + " " + std::to_string(w.rows) + " " +
                                std::to_string(x.cols) + " " + dir + "/x.f32 " + dir + "/w.f32 " + out;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const std::vector<double> reference = read_raw_f64(out);
    const auto cells = static_cast<size_t>(x.rows * w.rows);
    ASSERT_EQ(reference.size(), 2 * cells);
    const auto format = make_format(name);
    const double blocks = std::ceil(k / format->info().block);
    const Matrix blas = quantized_product(x, w, format.get(), format.get(), GemmEngine::kBlas);
    const Matrix golden = quantized_product(x, w, format.get(), format.get(), GemmEngine::kGolden);
    for (size_t i = 0; i < cells; ++i) {
      const double magnitude = reference[cells + i], f64_sum = k * std::ldexp(magnitude, -53);
      EXPECT_LE(std::fabs(blas.data[i] - reference[i]), k * std::ldexp(magnitude, -24) + f64_sum) << i;
      EXPECT_LE(std::fabs(golden.data[i] - reference[i]), (blocks + 1) * std::ldexp(magnitude, -24) + f64_sum) << i;
    }
  }
  std::filesystem::remove_all(dir);
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

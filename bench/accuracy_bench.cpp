// Accuracy-path performance targets (issue 12), each next to a reference from the same run:
//  - the Hadamard transform of a 4096 x 4096 matrix in under 50 ms on one core, in place and
//    through the transform API (which returns a new matrix); reference: a memcpy of 64 MiB;
//  - nibble lm's work over 20,000 predicted tokens for ten formats (W4A4 / W8A8, FP32 KV) in at
//    most 60 s on 2 cores (reference: the FP32 model over the same tokens).
// The models and text come from ../shared/lm (see its README).
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "nibble/models/registry.h"
#include "nibble/models/transform.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/lm.h"

namespace {

const std::string kLm = NIBBLE_SOURCE_DIR "/../shared/lm/";
constexpr std::int64_t kSide = 4096;
constexpr std::int64_t kTokens = 20000;
constexpr int kThreads = 2;
const char* const kFormats[] = {"mxfp4", "mxfp6_e2m3", "mxfp8_e4m3", "mxint8", "nvfp4",
                                "nvint4", "int4_g128", "int8_g32", "afpq4_g128", "bcq"};

const nibble::Matrix& square() {
  static const nibble::Matrix m = [] {
    nibble::Matrix x(kSide, kSide);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    for (float& v : x.data) v = normal(rng);
    return x;
  }();
  return m;
}

void BM_Memcpy4096(benchmark::State& state) {
  const auto& x = square();
  std::vector<float> dst(x.data.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), x.data.data(), x.data.size() * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Memcpy4096)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Hadamard4096(benchmark::State& state) {
  const auto& x = square();
  const auto fitted = nibble::make_transform("hadamard")->fit(nibble::MatrixView(nullptr, 0, kSide), x, nullptr, nullptr);
  for (auto _ : state) {
    nibble::Matrix y = fitted->weights(x);
    benchmark::DoNotOptimize(y.data.data());
  }
}
BENCHMARK(BM_Hadamard4096)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same rotation in place: signs, butterflies and normalization, no 64 MiB result to
// allocate and fault in.
void BM_HadamardInPlace4096(benchmark::State& state) {
  nibble::Matrix x = square();
  const nibble::HadamardRotation rotation(kSide, 1);
  for (auto _ : state) {
    rotation.apply(x);
    benchmark::DoNotOptimize(x.data.data());
  }
}
BENCHMARK(BM_HadamardInPlace4096)->Unit(benchmark::kMillisecond)->UseRealTime();

struct LmSetup {
  nibble::Llama2cCheckpoint checkpoint{kLm + "babyllama-105.bin"};
  std::vector<std::vector<int>> windows;
  std::vector<nibble::MatrixView> calibration;  // BCQ: the model's weights (activations: the same)
  LmSetup() {
    const nibble::Tokenizer tokenizer(kLm + "tokenizer-105.bin", checkpoint.config().vocab_size);
    std::ifstream in(kLm + "tinystories-eval.txt");
    std::stringstream text;
    text << in.rdbuf();
    windows = nibble::evaluation_windows(nibble::tokenize_documents(tokenizer, text.str()), nibble::window_tokens(checkpoint.config()), kTokens);
    for (int l = 0; l < checkpoint.config().n_layers; ++l) {
      const auto& w = checkpoint.layer(l);
      calibration.insert(calibration.end(), {w.wq, w.wk, w.wv, w.wo, w.w1, w.w2, w.w3});
    }
  }
};

LmSetup& lm_setup() {
  static LmSetup setup;
  return setup;
}

void BM_LmFp32(benchmark::State& state) {
  auto& s = lm_setup();
  for (auto _ : state) {
    const nibble::LlamaModel model(s.checkpoint, {});
    benchmark::DoNotOptimize(nibble::perplexity(model, s.windows, kThreads).nll_sum);
  }
  state.counters["tokens"] = static_cast<double>(kTokens);
}
BENCHMARK(BM_LmFp32)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

void BM_LmTenFormats(benchmark::State& state) {
  auto& s = lm_setup();
  for (auto _ : state) {
    for (const char* name : kFormats) {
      const auto format = nibble::calibrated(nibble::make_format(name), s.calibration, 1, kThreads);
      const nibble::LlamaModel model(s.checkpoint, {format, format, nullptr});
      benchmark::DoNotOptimize(nibble::perplexity(model, s.windows, kThreads).nll_sum);
    }
  }
  state.counters["tokens"] = static_cast<double>(kTokens);
}
BENCHMARK(BM_LmTenFormats)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace

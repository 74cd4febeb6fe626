// The Llama forward pass against an independent NumPy implementation of run.c
// (tests/reference/llama2c_reference.py), and the perplexity harness's invariants.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "expect_error.h"
#include "nibble/models/registry.h"
#include "nibble/models/transform.h"
#include "nibble/workloads/lm.h"

namespace nibble {
namespace {

const std::string kLm = NIBBLE_SOURCE_DIR "/../shared/lm/";

nlohmann::json run_reference(const std::string& model, const std::string& tokenizer,
                             const std::string& prompt, int steps) {
  const std::string command = std::string(NIBBLE_PYTHON) + " " NIBBLE_SOURCE_DIR "/tests/reference/llama2c_reference.py " +
                              model + " " + tokenizer + " '" + prompt + "' " + std::to_string(steps);
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  char buffer[65536];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0) << command;
  return nlohmann::json::parse(out);
}

std::string decode_all(const Tokenizer& tokenizer, const std::vector<int>& tokens) {
  std::string text;
  for (size_t i = 1; i < tokens.size(); ++i) text += tokenizer.decode(tokens[i - 1], tokens[i]);
  return text;
}

class SharedModel : public ::testing::TestWithParam<int> {
 protected:
  std::string model() const { return kLm + "babyllama-" + std::to_string(GetParam()) + ".bin"; }
  std::string tokenizer() const { return kLm + "tokenizer-" + std::to_string(GetParam()) + ".bin"; }
};

TEST_P(SharedModel, Fp32LogitsAndGreedyTextEqualTheNumpyReference) {
  constexpr int kSteps = 60;
  const nlohmann::json ref = run_reference(model(), tokenizer(), "Once upon a time", kSteps);
  const Llama2cCheckpoint checkpoint(model());
  const Tokenizer tok(tokenizer(), checkpoint.config().vocab_size);
  const LlamaModel lm(checkpoint, {});
  const std::vector<int> prompt = tok.encode("Once upon a time", /*bos=*/true);
  ASSERT_EQ(prompt, ref["prompt_tokens"].get<std::vector<int>>());
  const Matrix logits = lm.forward(prompt);
  double max_diff = 0;
  for (std::int64_t p = 0; p < logits.rows; ++p) {
    const auto expected = ref["logits"][p].get<std::vector<float>>();
    ASSERT_EQ(static_cast<std::int64_t>(expected.size()), logits.cols);
    for (std::int64_t j = 0; j < logits.cols; ++j) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(logits.row(p)[j]) - expected[static_cast<size_t>(j)]));
    }
  }
  EXPECT_LT(max_diff, 1e-4);
  RecordProperty("max_logit_difference", std::to_string(max_diff));
  const std::vector<int> generated = generate_greedy(lm, prompt, kSteps);
  EXPECT_EQ(std::vector<int>(generated.begin() + static_cast<std::ptrdiff_t>(prompt.size()), generated.end()),
            ref["generated_tokens"].get<std::vector<int>>());
  EXPECT_EQ(decode_all(tok, generated), ref["text"].get<std::string>());
  EXPECT_EQ(decode_all(tok, generated).rfind("Once upon a time", 0), 0u);
}

TEST_P(SharedModel, PerplexityIsIndependentOfTheThreadCountAndOrdersFormats) {
  const Llama2cCheckpoint checkpoint(model());
  const Tokenizer tok(tokenizer(), checkpoint.config().vocab_size);
  std::FILE* f = std::fopen((kLm + "tinystories-eval.txt").c_str(), "rb");
  std::string text(6000, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  const auto windows = evaluation_windows(tokenize_documents(tok, text), window_tokens(checkpoint.config()), 0);
  ASSERT_GE(windows.size(), 4u);
  const LlamaModel fp32(checkpoint, {});
  const PerplexityResult one = perplexity(fp32, windows, 1), two = perplexity(fp32, windows, 2);
  EXPECT_EQ(one.nll_sum, two.nll_sum);  // bit for bit
  EXPECT_EQ(one.predicted, two.predicted);
  // ../shared/lm/README.md measured about 2.8 (vocab 105) and 2.4 (vocab 361) on this text.
  EXPECT_NEAR(one.perplexity(), GetParam() == 105 ? 2.8 : 2.4, 0.25);
  // Formats on the first windows only (CI time).
  const std::vector<std::vector<int>> some(windows.begin(), windows.begin() + 4);
  const double fp32_some = perplexity(fp32, some, 2).perplexity();
  const auto with = [&](const char* w, const char* a) {
    return perplexity(LlamaModel(checkpoint, {make_format(w), make_format(a), nullptr}), some, 2).perplexity();
  };
  const double w8a8 = with("mxint8", "mxint8"), w4a4 = with("mxfp4", "mxfp4");
  RecordProperty("perplexity", std::to_string(one.perplexity()) + " w8a8 " + std::to_string(w8a8) + " w4a4 " + std::to_string(w4a4));
  EXPECT_LT(std::fabs(w8a8 / fp32_some - 1), 0.01);
  EXPECT_GT(w4a4 / fp32_some - 1, 0.05);
}

INSTANTIATE_TEST_SUITE_P(Lm, SharedModel, ::testing::Values(105, 361));

TEST(Lm, WindowsCoverEveryTokenOnceAndStopAtTheBudget) {
  const std::vector<std::vector<int>> docs = {{1, 5, 6, 7, 8, 9}, {1, 4}, {1}};
  EXPECT_EQ(evaluation_windows(docs, 4, 0),
            (std::vector<std::vector<int>>{{1, 5, 6, 7}, {8, 9}, {1, 4}}));
  EXPECT_EQ(evaluation_windows(docs, 4, 4), (std::vector<std::vector<int>>{{1, 5, 6, 7}, {8, 9}}));
  EXPECT_EQ(evaluation_windows(docs, 4, 2), (std::vector<std::vector<int>>{{1, 5, 6}}));
  EXPECT_EQ(split_documents({5, 1, 2, 3, 1, 4}), (std::vector<std::vector<int>>{{5}, {1, 2, 3}, {1, 4}}));
}

TEST(Lm, DocumentsSplitAtEndOfTextLines) {
  const Tokenizer tok(kLm + "tokenizer-105.bin", 105);
  const auto docs = tokenize_documents(tok, "ab\n<|endoftext|>\n\n<|endoftext|>\n a \n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], tok.encode("ab", /*bos=*/true));
  EXPECT_EQ(docs[1], tok.encode("a", /*bos=*/true));
}

double max_logit_gap(const Matrix& a, const Matrix& b) {
  double gap = 0;
  for (size_t i = 0; i < a.data.size(); ++i) gap = std::max(gap, std::fabs(static_cast<double>(a.data[i]) - b.data[i]));
  return gap;
}

// Without quantization every transform leaves the model's function unchanged (up to FP32
// rounding), so the logits stay those of the FP32 model; with quantization they move.
TEST(Lm, TransformsKeepTheFp32ModelAndEmbeddingsAreQuantizedOnlyOnRequest) {
  const Llama2cCheckpoint checkpoint(kLm + "babyllama-105.bin");
  const Tokenizer tok(kLm + "tokenizer-105.bin", 105);
  const std::vector<int> prompt = tok.encode("Once upon a time, there was a little dog.", /*bos=*/true);
  const Matrix fp32 = LlamaModel(checkpoint, {}).forward(prompt);
  std::vector<LayerActivations> calibration;
  LlamaModel(checkpoint, {}).forward(tok.encode("The cat sat in the sun and slept all day long.", /*bos=*/true), &calibration);
  for (const char* name : {"hadamard", "smoothquant", "osplus", "smoothquant+hadamard"}) {
    SCOPED_TRACE(name);
    LmFormats formats;
    formats.transform = make_transform(name);
    formats.calibration = &calibration;
    EXPECT_LT(max_logit_gap(LlamaModel(checkpoint, std::move(formats)).forward(prompt), fp32), 1e-3);
  }
  LmFormats uncalibrated;
  uncalibrated.transform = make_transform("smoothquant");
  expect_error([&] { LlamaModel m(checkpoint, std::move(uncalibrated)); }, {"smoothquant", "calibration"});

  const auto mxfp4 = make_format("mxfp4");
  const Matrix inner = LlamaModel(checkpoint, {mxfp4, nullptr, nullptr, false}).forward(prompt);
  const Matrix outer = LlamaModel(checkpoint, {mxfp4, nullptr, nullptr, true}).forward(prompt);
  EXPECT_GT(max_logit_gap(inner, fp32), 1e-3);
  EXPECT_GT(max_logit_gap(outer, inner), 1e-3);
  EXPECT_EQ(LlamaModel(checkpoint, {nullptr, nullptr, nullptr, true}).forward(prompt).data, fp32.data);
}

TEST(Lm, RefusesBadWindows) {
  const Llama2cCheckpoint checkpoint(kLm + "babyllama-105.bin");
  const LlamaModel lm(checkpoint, {});
  expect_error([&] { lm.forward({1, 105}); }, {"token id 105", "[0, 105)"});
  expect_error([&] { lm.forward({}); }, {"1 to 256 tokens"});
  expect_error([&] { lm.forward(std::vector<int>(257, 1)); }, {"got 257"});
}

}  // namespace
}  // namespace nibble

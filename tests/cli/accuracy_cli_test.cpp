// nibble eval on real tensors and GEMMs, and nibble lm, the way a user runs them.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "cli_run.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/gemm_accuracy.h"
#include "nibble/workloads/llama2c.h"
#include "nibble/workloads/lm.h"
#include "nibble/workloads/npy.h"
#include "nibble/workloads/synthetic.h"

namespace nibble {
namespace {

const std::string kLm = NIBBLE_SOURCE_DIR "/../shared/lm/";

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    rows.emplace_back();
    std::stringstream s(line);
    for (std::string cell; std::getline(s, cell, ',');) rows.back().push_back(cell);
  }
  return rows;
}

void expect_one_line_error(const CliRun& r, const std::string& needle) {
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("nibble: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(AccuracyCli, EvalReadsSafetensorsByGlob) {
  const Matrix a = synthetic_tensor("llm-weight", 8, 64, 3), b = synthetic_tensor("gaussian", 2, 32, 4);
  std::string header = R"({"__metadata__": {"x": "y"}, "layers.0.a": {"dtype": "F32", "shape": [8, 64], "data_offsets": [0, 2048]},)"
                       R"( "other": {"dtype": "F32", "shape": [2, 32], "data_offsets": [2048, 2304]}})";
  const std::string path = temp("model.safetensors");
  {
    std::ofstream out(path, std::ios::binary);
    const std::uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header;
    out.write(reinterpret_cast<const char*>(a.data.data()), 2048);
    out.write(reinterpret_cast<const char*>(b.data.data()), 256);
  }
  const std::string csv = temp("st.csv");
  const CliRun r = nibble("eval --in " + path + " --tensors 'layers.*' --formats mxfp4,int8_g32 --csv " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = read_csv(csv);
  ASSERT_EQ(rows.size(), 3u);  // header + 2 formats x 1 matching tensor
  EXPECT_EQ(rows[1][2], "layers.0.a");
  EXPECT_EQ(rows[1][7], "8");
  EXPECT_EQ(rows[1][8], "64");
  const auto format = make_format("mxfp4");
  EXPECT_NEAR(std::stod(rows[1][4]), quant_error(a, format->dequantize(format->quantize(a))).qsnr_db, 1e-5);
  expect_one_line_error(nibble("eval --in " + path + " --tensors 'nothing*'"), "no tensor matches 'nothing*'");
  std::ofstream(temp("cut.safetensors"), std::ios::binary) << std::string("\x10\0\0\0\0\0\0\0{}", 10);
  expect_one_line_error(nibble("eval --in " + temp("cut.safetensors")), "header length 16");
}

TEST(AccuracyCli, EvalGemmOnFilesAndSynthetic) {
  const std::string x = temp("x.npy"), w = temp("w.npy"), csv = temp("gemm.csv");
  write_npy(x, synthetic_tensor("llm-act", 16, 256, 1));
  write_npy(w, synthetic_tensor("llm-weight", 24, 256, 2));
  const CliRun r = nibble("eval --gemm " + x + " " + w + " --formats mxfp4,mxint8 --csv " + csv);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = read_csv(csv);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][3], "X 16x256 W 24x256");
  EXPECT_GT(std::stod(rows[2][4]), std::stod(rows[1][4]) + 10);  // mxint8 far above mxfp4
  const CliRun synthetic = nibble("eval --gemm --formats nvfp4 --rows 8 --cols 128");
  ASSERT_EQ(synthetic.code, 0) << synthetic.err;
  EXPECT_NE(synthetic.out.find("llm-act x llm-weight"), std::string::npos);
  const CliRun rotated = nibble("eval --gemm " + x + " " + w + " --formats mxfp4 --transform hadamard --csv " + csv);
  ASSERT_EQ(rotated.code, 0) << rotated.err;
  EXPECT_EQ(read_csv(csv)[1][1], "mxfp4 + hadamard");
  // The golden engine (gemm_accuracy_test.cpp bounds its gap to the BLAS one); the CSV holds
  // six decimals.
  const CliRun golden = nibble("eval --gemm " + x + " " + w + " --formats mxfp4,mxint8 --gemm-engine golden --csv " + csv);
  ASSERT_EQ(golden.code, 0) << golden.err;
  EXPECT_NE(golden.out.find("golden GEMM vs FP64"), std::string::npos);
  const auto mxint8 = make_format("mxint8");
  EXPECT_NEAR(std::stod(read_csv(csv)[2][4]),
              gemm_error(read_npy(x), read_npy(w), mxint8.get(), mxint8.get(), nullptr, GemmEngine::kGolden).snr_db, 1e-6);
  expect_one_line_error(nibble("eval --gemm-engine golden"), "--gemm-engine applies to --gemm");
  expect_one_line_error(nibble("eval --gemm --gemm-engine exact"), "unknown GEMM engine 'exact'");
  expect_one_line_error(nibble("eval --transform hadamard"), "--transform applies to --gemm");
  expect_one_line_error(nibble("eval --gemm --transform spin"), "unknown transform 'spin'");
  expect_one_line_error(nibble("eval --gemm " + x), "no file or two");
  write_npy(w, synthetic_tensor("llm-weight", 24, 128, 2));
  expect_one_line_error(nibble("eval --gemm " + x + " " + w), "disagree on K");
}

TEST(AccuracyCli, LmTextAndTokensAgreeAndThreadsDoNotMatter) {
  const std::string model = kLm + "babyllama-105.bin", tok = kLm + "tokenizer-105.bin";
  const std::string base = "lm --checkpoint " + model + " --max-tokens 300 --format mxfp4 --kv-format kivi:bits=2:residual=32 ";
  const std::string csv1 = temp("lm1.csv"), csv2 = temp("lm2.csv"), csv3 = temp("lm3.csv");
  const CliRun one = nibble(base + "--tokenizer " + tok + " --text " + kLm + "tinystories-eval.txt --threads 1 --csv " + csv1);
  ASSERT_EQ(one.code, 0) << one.err;
  const CliRun two = nibble(base + "--tokenizer " + tok + " --text " + kLm + "tinystories-eval.txt --threads 2 --csv " + csv2);
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);
  // The same stream pre-tokenized.
  std::ifstream in(kLm + "tinystories-eval.txt");
  std::stringstream text;
  text << in.rdbuf();
  const Tokenizer tokenizer(tok, 105);
  std::vector<int> stream;
  for (const auto& doc : tokenize_documents(tokenizer, text.str().substr(0, 20000))) stream.insert(stream.end(), doc.begin(), doc.end());
  Matrix ids(1, static_cast<std::int64_t>(stream.size()));
  for (size_t i = 0; i < stream.size(); ++i) ids.data[i] = static_cast<float>(stream[i]);
  write_npy(temp("ids.npy"), ids);
  const CliRun tokens = nibble(base + "--tokens " + temp("ids.npy") + " --csv " + csv3);
  ASSERT_EQ(tokens.code, 0) << tokens.err;
  const auto a = read_csv(csv1), b = read_csv(csv3);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t row = 1; row < 3; ++row) {
    EXPECT_EQ(a[row][7], "300");
    EXPECT_EQ(a[row][8], b[row][8]);  // the NLL sum, all digits
  }
  EXPECT_EQ(a[2][2], "mxfp4");
  EXPECT_EQ(a[2][4], "kivi:bits=2:residual=32");
  EXPECT_GT(std::stod(a[2][10]), 0.0);  // W4A4 + 2-bit KV raises perplexity
}

#if defined(__x86_64__)
// OpenBLAS picks its kernels for the CPU at load time and FP32 sums follow them, so the
// perplexities name the kernels in use; OPENBLAS_CORETYPE picks two that every x86-64 CPU runs.
TEST(AccuracyCli, LmNamesTheBlasKernelsItsSumsFollow) {
  const std::string run = "lm --checkpoint " + kLm + "babyllama-105.bin --tokenizer " + kLm +
                          "tokenizer-105.bin --text " + kLm + "tinystories-eval.txt --max-tokens 100 --format nvint4";
  for (const std::string core : {"Prescott", "Nehalem"}) {
    setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
    const CliRun r = nibble(run);
    unsetenv("OPENBLAS_CORETYPE");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("\nblas: OpenBLAS "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" " + core + " "), std::string::npos) << r.out;
  }
}
#endif

TEST(AccuracyCli, LmDumpsActivationsAndRefusesBadInput) {
  const std::string model = kLm + "babyllama-361.bin", tok = kLm + "tokenizer-361.bin";
  const std::string text = " --tokenizer " + tok + " --text " + kLm + "tinystories-eval.txt --max-tokens 40";
  const std::string dir = temp("acts");
  const CliRun r = nibble("lm --checkpoint " + model + text + " --dump-activations " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_npy(dir + "/layer4_ffn_hidden.npy").cols, 352);
  EXPECT_EQ(read_npy(dir + "/layer4_w2.npy").cols, 352);
  EXPECT_EQ(read_npy(dir + "/layer4_w2.npy").rows, 128);
  EXPECT_EQ(read_npy(dir + "/layer0_key.npy").rows, 41);
  EXPECT_EQ(read_npy(dir + "/layer0_key.npy").cols, 64);
  const std::string l0 = dir + "/layer0_";
  const std::string csv = temp("attention.csv");
  const CliRun att = nibble("eval --attention " + l0 + "query.npy " + l0 + "key.npy " + l0 +
                            "value.npy --formats kivi:bits=2:residual=0,kivi:bits=4:residual=0,mxint8 --csv " + csv);
  ASSERT_EQ(att.code, 0) << att.err;
  const auto rows = read_csv(csv);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1][1], "kivi:residual=0");
  EXPECT_LT(std::stod(rows[1][4]), std::stod(rows[2][4]));  // 2-bit below 4-bit
  EXPECT_LT(std::stod(rows[2][4]), std::stod(rows[3][4]));  // 4-bit below 8-bit
  expect_one_line_error(nibble("eval --attention " + l0 + "query.npy " + l0 + "key.npy --formats mxint8"), "three files");
  expect_one_line_error(nibble("lm --checkpoint " + model + text + " --kv-format kivi:bits=9"), "bits");
  expect_one_line_error(nibble("lm --checkpoint " + model + text + " --w-format mxfp4,nvfp4 --a-format a,b,c"),
                        "same length");
  expect_one_line_error(nibble("lm --checkpoint " + model + text + " --format bcq"), "--calib-text");
  expect_one_line_error(nibble("lm --checkpoint " + model + " --text x"), "--tokenizer");
  {
    std::ifstream in(model, std::ios::binary);
    std::string head(100000, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    std::ofstream(temp("cut.bin"), std::ios::binary) << head;
  }
  expect_one_line_error(nibble("lm --checkpoint " + temp("cut.bin") + text), "truncated llama2.c checkpoint");
  Matrix ids(1, 3);
  ids.data = {1, 400, 5};
  write_npy(temp("bad_ids.npy"), ids);
  expect_one_line_error(nibble("lm --checkpoint " + model + " --tokens " + temp("bad_ids.npy")), "element 1");
}

}  // namespace
}  // namespace nibble

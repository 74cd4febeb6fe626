// .safetensors and llama2.c checkpoint/tokenizer readers: hand-made files with known contents,
// every malformed case, and the real models in ../shared/lm.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "expect_error.h"
#include "nibble/workloads/llama2c.h"
#include "nibble/workloads/safetensors.h"

namespace nibble {
namespace {

const std::string kLm = NIBBLE_SOURCE_DIR "/../shared/lm/";

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("nibble_src_" + std::to_string(getpid()) + "_" + name)).string();
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

std::string safetensors_bytes(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

template <typename T>
std::string raw(std::initializer_list<T> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * sizeof(T));
}

TEST(Safetensors, ReadsF32F16Bf16AndMatchesGlobs) {
  // F16 0x3C00 = 1, 0xC000 = -2, 0x3555 = 0.333251953125; BF16 0x3F80 = 1, 0x4049 = 3.140625.
  nlohmann::json h;
  h["__metadata__"] = {{"format", "pt"}};
  h["layers.0.w"] = {{"dtype", "F32"}, {"shape", {2, 1, 2}}, {"data_offsets", {0, 16}}};
  h["layers.0.h"] = {{"dtype", "F16"}, {"shape", {3}}, {"data_offsets", {16, 22}}};
  h["layers.1.b"] = {{"dtype", "BF16"}, {"shape", {1, 2}}, {"data_offsets", {22, 26}}};
  h["ids"] = {{"dtype", "I8"}, {"shape", {2}}, {"data_offsets", {26, 28}}};
  const std::string data = raw<float>({1.5f, -2.0f, 0.25f, 1e30f}) +
                           raw<std::uint16_t>({0x3C00, 0xC000, 0x3555}) +
                           raw<std::uint16_t>({0x3F80, 0x4049}) + std::string("\x01\x02", 2);
  const SafetensorsFile file(write_file("ok.safetensors", safetensors_bytes(h.dump(), data)));
  ASSERT_EQ(file.entries().size(), 4u);
  EXPECT_EQ(file.entries()[0].name, "layers.0.w");  // file order of the offsets
  const Matrix w = file.read(file.entries()[0]);
  EXPECT_EQ(w.rows, 2);
  EXPECT_EQ(w.cols, 2);
  EXPECT_EQ(w.data, (std::vector<float>{1.5f, -2.0f, 0.25f, 1e30f}));
  const Matrix f16 = file.read(file.entries()[1]);
  EXPECT_EQ(f16.rows, 1);
  EXPECT_EQ(f16.data, (std::vector<float>{1.0f, -2.0f, 0.333251953125f}));
  EXPECT_EQ(file.read(file.entries()[2]).data, (std::vector<float>{1.0f, 3.140625f}));
  const auto layer0 = file.match("layers.0.*");
  ASSERT_EQ(layer0.size(), 2u);
  EXPECT_EQ(layer0[1]->name, "layers.0.h");
  EXPECT_EQ(file.match("layers.[1-9].?").size(), 1u);
  EXPECT_TRUE(file.match("nothing*").empty());
  expect_error([&] { file.read(file.entries()[3]); }, {"ids", "I8"});
}

TEST(Safetensors, RejectsEveryMalformedFile) {
  const auto entry = [](const char* dtype, nlohmann::json shape, nlohmann::json offsets) {
    nlohmann::json h;
    h["t"] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}};
    return h.dump();
  };
  const std::string eight(8, '\0');
  const struct {
    const char* name;
    std::string bytes;
    std::vector<std::string> needles;
  } cases[] = {
      {"short", "abc", {"no 8-byte header length"}},
      {"header_past_end", le64(100) + "{}", {"header length 100", "2 bytes follow"}},
      {"huge_header", le64(std::uint64_t{1} << 62), {"exceeds the limit"}},
      {"bad_json", safetensors_bytes("{\"t\": [", ""), {"malformed JSON"}},
      {"not_object", safetensors_bytes("[1, 2]", ""), {"not an object"}},
      {"no_dtype", safetensors_bytes(R"({"t": {"shape": [1], "data_offsets": [0, 4]}})", eight), {"'t'", "dtype"}},
      {"unknown_dtype", safetensors_bytes(entry("F7", {1}, {0, 4}), eight), {"unknown dtype 'F7'"}},
      {"negative_dim", safetensors_bytes(entry("F32", {-1}, {0, 4}), eight), {"non-negative"}},
      {"offsets_past_end", safetensors_bytes(entry("F32", {4}, {0, 16}), eight), {"beyond the 8-byte", "truncated"}},
      {"size_mismatch", safetensors_bytes(entry("F32", {3}, {0, 8}), eight), {"need 12 bytes", "span 8"}},
      {"overflow", safetensors_bytes(entry("F32", {std::uint64_t{1} << 40, std::uint64_t{1} << 40}, {0, 8}), eight),
       {"overflows"}},
      {"reversed_offsets", safetensors_bytes(entry("F32", {0}, {8, 0}), eight), {"begin after"}},
      {"bad_offsets", safetensors_bytes(entry("F32", {1}, {0}), eight), {"data_offsets"}},
      {"overlap", safetensors_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                        "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", eight),
       {"'a'", "'b'", "overlap"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = write_file(std::string(c.name) + ".safetensors", c.bytes);
    expect_error([&] { SafetensorsFile file(path); }, {path, c.needles[0]});
    for (const auto& needle : c.needles) expect_error([&] { SafetensorsFile file(path); }, {needle});
  }
  expect_error([] { SafetensorsFile file("/nonexistent/x.safetensors"); }, {"cannot open"});
}

// A llama2.c checkpoint by hand: header, then float i * 0.5 at float index i.
std::string tiny_checkpoint(std::int32_t vocab, std::int64_t drop_bytes = 0) {
  const std::int32_t dim = 4, hidden = 6, layers = 2, heads = 2, kv_heads = 1, seq = 3;
  const std::int64_t kv = kv_heads * dim / heads, v = vocab < 0 ? -vocab : vocab;
  std::int64_t floats = v * dim + layers * (2 * dim + 2 * dim * dim + 2 * kv * dim + 3 * hidden * dim) +
                        dim + seq * (dim / heads) + (vocab < 0 ? v * dim : 0);
  std::string bytes = raw<std::int32_t>({dim, hidden, layers, heads, kv_heads, vocab, seq});
  for (std::int64_t i = 0; i < floats; ++i) bytes += raw<float>({0.5f * static_cast<float>(i)});
  bytes.resize(bytes.size() - static_cast<size_t>(drop_bytes));
  return bytes;
}

TEST(Llama2c, TensorsInTheFixedOrderSharedAndSeparateClassifier) {
  for (const std::int32_t vocab : {5, -5}) {
    SCOPED_TRACE(vocab);
    const Llama2cCheckpoint ckpt(write_file("tiny" + std::to_string(vocab) + ".bin", tiny_checkpoint(vocab)));
    const LlamaConfig& c = ckpt.config();
    EXPECT_EQ(c.vocab_size, 5);
    EXPECT_EQ(c.shared_classifier, vocab > 0);
    EXPECT_EQ(c.head_size(), 2);
    EXPECT_EQ(c.kv_dim(), 2);
    // Offsets in floats: embedding 0 (20), rms_att 20 (8), wq 28 (32), wk 60 (16), wv 76 (16),
    // wo 92 (32), rms_ffn 124 (8), w1 132 (48), w2 180 (48), w3 228 (48), rms_final 276 (4),
    // freq_cis 280 (6), wcls 286.
    EXPECT_EQ(ckpt.token_embedding().row(1)[0], 0.5f * 4);
    EXPECT_EQ(ckpt.layer(1).rms_att[0], 0.5f * 24);
    EXPECT_EQ(ckpt.layer(1).wq.row(0)[0], 0.5f * 44);
    EXPECT_EQ(ckpt.layer(0).wk.rows, 2);
    EXPECT_EQ(ckpt.layer(1).wk.row(0)[0], 0.5f * 68);
    EXPECT_EQ(ckpt.layer(1).wv.row(1)[3], 0.5f * (84 + 7));
    EXPECT_EQ(ckpt.layer(1).wo.row(0)[0], 0.5f * 108);
    EXPECT_EQ(ckpt.layer(1).rms_ffn[0], 0.5f * 128);
    EXPECT_EQ(ckpt.layer(1).w1.row(0)[0], 0.5f * 156);
    EXPECT_EQ(ckpt.layer(0).w2.cols, 6);
    EXPECT_EQ(ckpt.layer(1).w2.row(0)[0], 0.5f * 204);
    EXPECT_EQ(ckpt.layer(1).w3.row(0)[0], 0.5f * 252);
    EXPECT_EQ(ckpt.rms_final()[3], 0.5f * 279);
    EXPECT_EQ(ckpt.classifier().row(0)[0], vocab > 0 ? 0.0f : 0.5f * 286);
  }
}

TEST(Llama2c, RejectsTruncatedAndInconsistentCheckpoints) {
  expect_error([] { Llama2cCheckpoint c(write_file("short.bin", "abcd")); }, {"header alone is 28"});
  expect_error([] { Llama2cCheckpoint c(write_file("cut.bin", tiny_checkpoint(5, 4))); },
               {"truncated llama2.c checkpoint", "implies"});
  expect_error([] { Llama2cCheckpoint c(write_file("long.bin", tiny_checkpoint(5) + "xxxx")); }, {"oversized"});
  // A separate-classifier header over a shared-classifier body is short by the classifier.
  expect_error([] { Llama2cCheckpoint c(write_file("sep.bin", [] {
                  std::string b = tiny_checkpoint(5);
                  const std::int32_t neg = -5;
                  std::memcpy(b.data() + 20, &neg, 4);
                  return b;
                }())); }, {"truncated", "separate classifier"});
  const auto with_header = [](std::initializer_list<std::int32_t> h) { return raw<std::int32_t>(h) + std::string(64, '\0'); };
  expect_error([&] { Llama2cCheckpoint c(write_file("zero.bin", with_header({0, 6, 2, 2, 1, 5, 3}))); }, {"dim = 0"});
  expect_error([&] { Llama2cCheckpoint c(write_file("huge.bin", with_header({4, 6, 2, 2, 1, 5, 1 << 30}))); },
               {"seq_len"});
  expect_error([&] { Llama2cCheckpoint c(write_file("heads.bin", with_header({6, 6, 2, 4, 1, 5, 3}))); },
               {"multiple of n_heads"});
  expect_error([&] { Llama2cCheckpoint c(write_file("kv.bin", with_header({8, 6, 2, 4, 3, 5, 3}))); },
               {"n_kv_heads"});
  expect_error([&] { Llama2cCheckpoint c(write_file("odd.bin", with_header({6, 6, 2, 2, 1, 5, 3}))); }, {"odd"});
}

TEST(Llama2c, SharedModelsMatchTheirReadme) {
  for (const int vocab : {105, 361}) {
    const std::string path = kLm + "babyllama-" + std::to_string(vocab) + ".bin";
    const Llama2cCheckpoint ckpt(path);
    const LlamaConfig& c = ckpt.config();
    EXPECT_EQ(c.dim, 128);
    EXPECT_EQ(c.hidden_dim, 352);
    EXPECT_EQ(c.n_layers, 5);
    EXPECT_EQ(c.n_heads, 8);
    EXPECT_EQ(c.n_kv_heads, 4);
    EXPECT_EQ(c.vocab_size, vocab);
    EXPECT_EQ(c.seq_len, 256);
    EXPECT_TRUE(c.shared_classifier);
    EXPECT_EQ(ckpt.classifier().data, ckpt.token_embedding().data);
    // The first float after the header, read independently.
    std::ifstream in(path, std::ios::binary);
    in.seekg(28);
    float first = 0;
    in.read(reinterpret_cast<char*>(&first), 4);
    EXPECT_EQ(std::bit_cast<std::uint32_t>(ckpt.token_embedding().row(0)[0]), std::bit_cast<std::uint32_t>(first));
  }
}

TEST(Tokenizer, EncodesAndDecodesAsRunC) {
  const Tokenizer t105(kLm + "tokenizer-105.bin", 105);
  // From the vocabulary listing: ' ' 3, e 4, a 5, t 6, o 7, n 9, i 10, m 16, u 18, p 20, c 22,
  // O 34; the dummy prefix ' ' follows BOS.
  EXPECT_EQ(t105.encode("Once upon a time", /*bos=*/true),
            (std::vector<int>{1, 3, 34, 9, 22, 4, 3, 18, 20, 7, 9, 3, 5, 3, 6, 10, 16, 4}));
  EXPECT_EQ(t105.encode("", /*bos=*/false), std::vector<int>{});
  // No newline token and no byte tokens in the 105 vocabulary: <unk>; a 3-byte character with
  // its own token ("\xe2\x80\x9c", the left double quote) is one token (58).
  EXPECT_EQ(t105.encode("a\n\xe2\x80\x9c", /*bos=*/false), (std::vector<int>{3, 5, 0, 58}));
  EXPECT_EQ(t105.decode(kBosToken, 3), "");
  EXPECT_EQ(t105.decode(34, 3), " ");
  const Tokenizer t361(kLm + "tokenizer-361.bin", 361);
  // Byte fallback: '\n' = <0x0A> = 3 + 10; then "é" has its own token.
  const auto ids = t361.encode("\n", /*bos=*/false);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[1], 13);
  EXPECT_EQ(t361.piece(13), "<0x0A>");
  EXPECT_EQ(t361.decode(5, 13), "\n");
  expect_error([] { Tokenizer t(kLm + "tokenizer-105.bin", 361); }, {"truncated tokenizer file", "token 105"});
  expect_error([] { Tokenizer t(kLm + "tokenizer-361.bin", 105); }, {"trailing bytes"});
  expect_error([] { Tokenizer t(write_file("tok.bin", raw<std::int32_t>({4}) + raw<float>({0}) +
                                                    raw<std::int32_t>({9}) + "abcdefghi"), 1); },
               {"token 0 has length 9"});
}

}  // namespace
}  // namespace nibble

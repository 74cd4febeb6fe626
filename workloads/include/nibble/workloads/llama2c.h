#pragma once
// llama2.c checkpoints and tokenizers (https://github.com/karpathy/llama2.c, run.c).
//
// Checkpoint: a 28-byte header of seven little-endian int32 values
//   dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
// (a negative vocab_size means a separate classifier follows; a positive one that the classifier
// shares the token embedding), then FP32 tensors in this fixed order:
//   token_embedding [vocab, dim], rms_att [layers, dim], wq [layers, dim, dim],
//   wk [layers, kv_dim, dim], wv [layers, kv_dim, dim], wo [layers, dim, dim],
//   rms_ffn [layers, dim], w1 [layers, hidden, dim], w2 [layers, dim, hidden],
//   w3 [layers, hidden, dim], rms_final [dim], freq_cis_real and freq_cis_imag
//   [seq_len, head_size / 2] (skipped, as run.c does), then wcls [vocab, dim] if separate;
// kv_dim = n_kv_heads * dim / n_heads. The file is memory-mapped and must be exactly that size.
//
// Tokenizer: an int32 max_token_length, then per token a float32 score, an int32 byte length
// and the bytes. Token 0 is <unk>, 1 BOS, 2 EOS.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nibble/models/tensor.h"

namespace nibble {

struct LlamaConfig {
  int dim = 0;
  int hidden_dim = 0;
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int vocab_size = 0;  // always positive here
  int seq_len = 0;
  bool shared_classifier = true;

  int head_size() const { return dim / n_heads; }
  int kv_dim() const { return n_kv_heads * head_size(); }
};

// Views into the mapped checkpoint; row-major [out, in] for every linear layer.
struct LlamaLayerWeights {
  const float* rms_att;
  MatrixView wq, wk, wv, wo;
  const float* rms_ffn;
  MatrixView w1, w2, w3;
};

class Llama2cCheckpoint {
 public:
  // Throws nibble::Error naming the file and the problem: too short for the header, a
  // non-positive or inconsistent dimension (dim not a multiple of n_heads, n_heads not of
  // n_kv_heads, an odd head size), a size other than the header implies (overflow-checked).
  explicit Llama2cCheckpoint(const std::string& path);
  ~Llama2cCheckpoint();
  Llama2cCheckpoint(Llama2cCheckpoint&&) noexcept;
  Llama2cCheckpoint& operator=(Llama2cCheckpoint&&) noexcept;

  const std::string& path() const;
  const LlamaConfig& config() const { return config_; }
  MatrixView token_embedding() const { return token_embedding_; }
  const LlamaLayerWeights& layer(int l) const { return layers_[static_cast<size_t>(l)]; }
  const float* rms_final() const { return rms_final_; }
  MatrixView classifier() const { return classifier_; }

 private:
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  LlamaConfig config_;
  MatrixView token_embedding_, classifier_;
  std::vector<LlamaLayerWeights> layers_;
  const float* rms_final_ = nullptr;
};

inline constexpr int kUnkToken = 0;
inline constexpr int kBosToken = 1;
inline constexpr int kEosToken = 2;

class Tokenizer {
 public:
  // Reads `vocab_size` tokens; throws nibble::Error for a short, truncated or oversized file.
  Tokenizer(const std::string& path, int vocab_size);

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  const std::string& piece(int token) const { return pieces_.at(static_cast<size_t>(token)); }

  // run.c's encode: optional BOS, a dummy-prefix " " token for non-empty text, one token per
  // UTF-8 character (a character without a token falls back to its bytes' <0xXX> tokens
  // where the vocabulary has them, else to <unk>), then repeatedly the adjacent pair whose
  // concatenation is a token with the highest score is merged (ties: the leftmost pair).
  std::vector<int> encode(std::string_view text, bool bos) const;
  // run.c's decode of `token` after `previous`: a leading space is dropped after BOS, and
  // <0xXX> pieces become their byte.
  std::string decode(int previous, int token) const;

 private:
  int lookup(std::string_view piece) const;  // -1 when absent
  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> ids_;
};

}  // namespace nibble

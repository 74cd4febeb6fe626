#pragma once
// A Llama forward pass with llama2.c run.c's arithmetic (RMSNorm eps 1e-5, RoPE base 10000 on
// pairs (2i, 2i+1) within each head, grouped-query attention over a KV cache, SwiGLU FFN
// w2(silu(w1 x) * w3 x), FP32 throughout) and fake quantization, for perplexity.
//
// A window of tokens runs teacher-forced, as run.c would run it one position after another:
// position p attends to the cache entries 0..p. The linear layers are batched over the window
// as GEMMs (blas.h), which adds in another order than run.c's loops but changes nothing else.
//
// Fake quantization (quantize, then dequantize, through models/ formats):
//  - weights of every linear layer (wq, wk, wv, wo, w1, w2, w3) along K, per output row, once;
//  - activations entering those layers along K, per token;
//  - keys and values as the cache holds them (kv_format.h; keys after RoPE);
//  - the token embedding and the classifier (lm_head, and its input) only when
//    `quantize_embeddings` is set: they stay FP32 by default, as in most W4A4 studies.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nibble/models/block_format.h"
#include "nibble/models/kv_format.h"
#include "nibble/models/tensor.h"
#include "nibble/models/transform.h"
#include "nibble/workloads/llama2c.h"

namespace nibble {

struct LayerActivations;

struct LmFormats {
  std::shared_ptr<const BlockFormat> weights;      // nullptr: FP32
  std::shared_ptr<const BlockFormat> activations;  // nullptr: FP32
  std::shared_ptr<const KvFormat> kv;              // nullptr: FP32
  bool quantize_embeddings = false;
  // Fitted to every linear layer on its own (wq, wk and wv each get theirs) before
  // quantization; transforms that need calibration read `calibration` (one entry per layer:
  // the FP32 model's activations on calibration text, never the evaluated text).
  std::shared_ptr<const Transform> transform;
  const std::vector<LayerActivations>* calibration = nullptr;
};

// What flows through one layer for a window, for --dump-activations, calibration and
// GEMM-level accuracy on real tensors: the inputs of its linear layers (before any
// quantization) and the cache's keys (after RoPE) and values.
struct LayerActivations {
  Matrix attention_input;  // [T, dim]     into wq, wk, wv
  Matrix query;            // [T, dim]     after RoPE
  Matrix key;              // [T, kv_dim]  after RoPE
  Matrix value;            // [T, kv_dim]
  Matrix attention_output; // [T, dim]     into wo
  Matrix ffn_input;        // [T, dim]     into w1, w3
  Matrix ffn_hidden;       // [T, hidden]  into w2
};

// Causal grouped-query attention softmax(Q K^T / sqrt(head_size)) V over one window, as run.c
// computes it position by position, with the cache held in `kv` (nullptr: FP32): query p reads
// the oldest kv->quantized_tokens(p + 1) cached tokens quantized and the rest full-precision.
// q [T, n_heads * head_size]; k, v [T, n_kv_heads * head_size] (after RoPE); returns [T, q.cols].
Matrix cached_attention(const Matrix& q, const Matrix& k, const Matrix& v, int n_heads, int n_kv_heads,
                        const KvFormat* kv);

class LlamaModel {
 public:
  // Quantizes the weights once. The checkpoint must outlive the model.
  LlamaModel(const Llama2cCheckpoint& checkpoint, LmFormats formats);

  const LlamaConfig& config() const { return checkpoint_->config(); }
  // Logits [tokens.size(), vocab] of a window of at most window_tokens() tokens; thread-safe.
  // `capture`, when given, receives every layer's activations.
  Matrix forward(const std::vector<int>& tokens, std::vector<LayerActivations>* capture = nullptr) const;

 private:
  // A linear layer as it runs: transformed and quantized weight, its transform, extra bias.
  struct Linear {
    Matrix weight;
    std::unique_ptr<FittedTransform> transform;
    std::vector<float> bias;
  };
  struct Layer {
    Linear wq, wk, wv, wo, w1, w2, w3;
  };
  Linear prepare(MatrixView weight, const Matrix* calibration) const;
  // y = Q_a(T(x)) W'^T + b'; `quantized_input` is Q_a(x), shared by layers without a transform.
  Matrix apply(const Linear& linear, const Matrix& x, const Matrix& quantized_input) const;
  const Llama2cCheckpoint* checkpoint_;
  LmFormats formats_;
  std::vector<Layer> layers_;
  Matrix embedding_, classifier_;
};

// The text cut into documents at lines that read "<|endoftext|>", each trimmed of surrounding
// whitespace and encoded with BOS first (Tokenizer::encode); empty documents are dropped.
std::vector<std::vector<int>> tokenize_documents(const Tokenizer& tokenizer, const std::string& text);
// A pre-tokenized stream cut into documents before every BOS token.
std::vector<std::vector<int>> split_documents(const std::vector<int>& tokens);

// The longest window forward() runs: the model's context, capped because a window's attention
// is held as T x T score matrices (four of them, 64 MiB at 2048 tokens).
inline constexpr int kMaxWindowTokens = 2048;
inline int window_tokens(const LlamaConfig& config) { return std::min(config.seq_len, kMaxWindowTokens); }

// Teacher-forced evaluation windows: every document cut into consecutive windows of seq_len
// tokens; in each window every token but the first is predicted from those before it (so each
// window's first token is context only; the first window of a document starts with BOS).
// With max_predicted > 0 the windows stop after that many predicted tokens.
std::vector<std::vector<int>> evaluation_windows(const std::vector<std::vector<int>>& documents,
                                                 int seq_len, std::int64_t max_predicted);

struct PerplexityResult {
  double nll_sum = 0;            // natural log, summed over the predicted tokens
  std::int64_t predicted = 0;
  double perplexity() const;     // exp(nll_sum / predicted)
};

// Sums the negative log-likelihood over every window, in parallel over windows (threads = 0:
// every core); per-window sums are added in window order, so the result does not depend on the
// thread count. Token ids outside the vocabulary are refused.
PerplexityResult perplexity(const LlamaModel& model, const std::vector<std::vector<int>>& windows,
                            int threads = 0, const std::function<void(int, int)>& progress = {});

// Greedy decoding: appends `steps` argmax tokens to the prompt (stopping at the context length).
std::vector<int> generate_greedy(const LlamaModel& model, std::vector<int> prompt, int steps);

}  // namespace nibble

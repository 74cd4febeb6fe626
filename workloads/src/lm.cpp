#include "nibble/workloads/lm.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "nibble/models/blas.h"
#include "nibble/models/error.h"
#include "nibble/models/parallel.h"

namespace nibble {
namespace {

// run.c's rmsnorm, row by row.
Matrix rmsnorm(const Matrix& x, const float* weight) {
  Matrix out(x.rows, x.cols);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    const float* in = x.row(r);
    float ss = 0.0f;
    for (std::int64_t j = 0; j < x.cols; ++j) ss += in[j] * in[j];
    ss /= static_cast<float>(x.cols);
    ss += 1e-5f;
    ss = 1.0f / std::sqrt(ss);
    for (std::int64_t j = 0; j < x.cols; ++j) out.row(r)[j] = weight[j] * (ss * in[j]);
  }
  return out;
}

// run.c's RoPE: pairs (i, i+1) of every head rotated by pos * 10000^(-(i mod head) / head).
void rope(Matrix& q, Matrix& k, int head_size) {
  for (std::int64_t pos = 0; pos < q.rows; ++pos) {
    for (std::int64_t i = 0; i < q.cols; i += 2) {
      const int head_dim = static_cast<int>(i % head_size);
      const float freq = 1.0f / std::pow(10000.0f, static_cast<float>(head_dim) / static_cast<float>(head_size));
      const float val = static_cast<float>(pos) * freq;
      const float fcr = std::cos(val), fci = std::sin(val);
      for (Matrix* m : {&q, &k}) {
        if (i >= m->cols) continue;
        float* v = m->row(pos) + i;
        const float v0 = v[0], v1 = v[1];
        v[0] = v0 * fcr - v1 * fci;
        v[1] = v0 * fci + v1 * fcr;
      }
    }
  }
}

void add_into(Matrix& x, const Matrix& delta) {
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] += delta.data[i];
}

}  // namespace

Matrix cached_attention(const Matrix& q, const Matrix& k, const Matrix& v, int n_heads, int n_kv_heads,
                        const KvFormat* kv) {
  const std::int64_t T = q.rows;
  const int hs = static_cast<int>(q.cols / n_heads), kv_mul = n_heads / n_kv_heads;
  if (q.cols != static_cast<std::int64_t>(n_heads) * hs || k.cols != static_cast<std::int64_t>(n_kv_heads) * hs ||
      v.cols != k.cols || k.rows != T || v.rows != T || n_heads % n_kv_heads != 0) {
    throw Error("attention: Q " + std::to_string(q.rows) + " x " + std::to_string(q.cols) + ", K and V " +
                std::to_string(k.rows) + " x " + std::to_string(k.cols) + " do not fit " +
                std::to_string(n_heads) + " query and " + std::to_string(n_kv_heads) + " KV heads");
  }
  const float sqrt_head_size = std::sqrt(static_cast<float>(hs));
  // Cache rows a query at position p reads quantized: the oldest quantized_tokens(p + 1).
  std::vector<std::int64_t> quantized(static_cast<size_t>(T));
  bool mixed = false;
  for (std::int64_t p = 0; p < T; ++p) {
    quantized[static_cast<size_t>(p)] = kv ? kv->quantized_tokens(p + 1) : p + 1;
    mixed = mixed || quantized[static_cast<size_t>(p)] < p + 1;
  }
  const Matrix k_old = kv ? kv->quantize_keys(k) : Matrix(), v_old = kv ? kv->quantize_values(v) : Matrix();
  const Matrix k_new = mixed ? kv->full_precision(k) : Matrix(), v_new = mixed ? kv->full_precision(v) : Matrix();
  const float* keys = kv ? k_old.data.data() : k.data.data();
  const float* values = kv ? v_old.data.data() : v.data.data();
  const std::int64_t kv_dim = k.cols;

  Matrix scores(T, T), scores_recent(T, T), att(T, T), att_recent(T, T), out(T, q.cols);
  for (int h = 0; h < n_heads; ++h) {
    const std::int64_t qoff = static_cast<std::int64_t>(h) * hs, koff = static_cast<std::int64_t>(h / kv_mul) * hs;
    sgemm(false, true, T, T, hs, 1.0f, q.data.data() + qoff, q.cols, keys + koff, kv_dim, 0.0f,
          scores.data.data(), T);
    if (mixed) {
      sgemm(false, true, T, T, hs, 1.0f, q.data.data() + qoff, q.cols, k_new.data.data() + koff, kv_dim, 0.0f,
            scores_recent.data.data(), T);
    }
    for (std::int64_t p = 0; p < T; ++p) {
      const std::int64_t nq = quantized[static_cast<size_t>(p)];
      float* s = scores.row(p);
      for (std::int64_t t = nq; t <= p; ++t) s[t] = scores_recent.row(p)[t];
      float max = -INFINITY;
      for (std::int64_t t = 0; t <= p; ++t) {
        s[t] /= sqrt_head_size;
        max = std::max(max, s[t]);
      }
      float sum = 0.0f;
      for (std::int64_t t = 0; t <= p; ++t) {
        s[t] = std::exp(s[t] - max);
        sum += s[t];
      }
      float* a = att.row(p);
      float* ar = att_recent.row(p);
      for (std::int64_t t = 0; t < T; ++t) {
        const float prob = t <= p ? s[t] / sum : 0.0f;
        a[t] = t < nq ? prob : 0.0f;
        ar[t] = t < nq ? 0.0f : prob;
      }
    }
    sgemm(false, false, T, hs, T, 1.0f, att.data.data(), T, values + koff, kv_dim, 0.0f,
          out.data.data() + qoff, q.cols);
    if (mixed) {
      sgemm(false, false, T, hs, T, 1.0f, att_recent.data.data(), T, v_new.data.data() + koff, kv_dim, 1.0f,
            out.data.data() + qoff, q.cols);
    }
  }
  return out;
}

LlamaModel::Linear LlamaModel::prepare(MatrixView weight, const Matrix* calibration) const {
  const BlockFormat* w = formats_.weights.get();
  if (!formats_.transform) return {fake_quantize(w, weight), nullptr, {}};
  const MatrixView x = calibration ? MatrixView(*calibration) : MatrixView(nullptr, 0, weight.cols);
  auto fitted = formats_.transform->fit(x, weight, formats_.activations.get(), w);
  std::vector<float> bias = fitted->bias(weight);
  return {fake_quantize(w, fitted->weights(weight)), std::move(fitted), std::move(bias)};
}

Matrix LlamaModel::apply(const Linear& linear, const Matrix& x, const Matrix& quantized_input) const {
  Matrix y = linear.transform ? matmul_nt(fake_quantize(formats_.activations.get(), linear.transform->activations(x)), linear.weight)
                              : matmul_nt(quantized_input, linear.weight);
  if (!linear.bias.empty()) {
    for (std::int64_t r = 0; r < y.rows; ++r) {
      for (std::int64_t c = 0; c < y.cols; ++c) y.row(r)[c] += linear.bias[static_cast<size_t>(c)];
    }
  }
  return y;
}

LlamaModel::LlamaModel(const Llama2cCheckpoint& checkpoint, LmFormats formats)
    : checkpoint_(&checkpoint), formats_(std::move(formats)) {
  const bool calibrate = formats_.transform && formats_.transform->needs_calibration();
  if (calibrate && (!formats_.calibration || formats_.calibration->size() != static_cast<size_t>(config().n_layers))) {
    throw Error("transform " + formats_.transform->name() + " needs calibration activations for every layer");
  }
  for (int l = 0; l < config().n_layers; ++l) {
    const LlamaLayerWeights& src = checkpoint.layer(l);
    const LayerActivations* cal = calibrate ? &(*formats_.calibration)[static_cast<size_t>(l)] : nullptr;
    const auto input = [&](const Matrix LayerActivations::*member) { return cal ? &(cal->*member) : nullptr; };
    layers_.push_back({prepare(src.wq, input(&LayerActivations::attention_input)),
                       prepare(src.wk, input(&LayerActivations::attention_input)),
                       prepare(src.wv, input(&LayerActivations::attention_input)),
                       prepare(src.wo, input(&LayerActivations::attention_output)),
                       prepare(src.w1, input(&LayerActivations::ffn_input)),
                       prepare(src.w2, input(&LayerActivations::ffn_hidden)),
                       prepare(src.w3, input(&LayerActivations::ffn_input))});
  }
  const BlockFormat* outer = formats_.quantize_embeddings ? formats_.weights.get() : nullptr;
  embedding_ = fake_quantize(outer, checkpoint.token_embedding());
  classifier_ = fake_quantize(outer, checkpoint.classifier());
}

Matrix LlamaModel::forward(const std::vector<int>& tokens, std::vector<LayerActivations>* capture) const {
  const LlamaConfig& c = config();
  const auto T = static_cast<std::int64_t>(tokens.size());
  if (T == 0 || T > window_tokens(c)) {
    throw Error("forward: a window holds 1 to " + std::to_string(window_tokens(c)) + " tokens, got " + std::to_string(T));
  }
  const BlockFormat* act = formats_.activations.get();
  const KvFormat* kv = formats_.kv.get();

  Matrix x(T, c.dim);
  for (std::int64_t p = 0; p < T; ++p) {
    const int token = tokens[static_cast<size_t>(p)];
    if (token < 0 || token >= c.vocab_size) {
      throw Error("token id " + std::to_string(token) + " is outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
    }
    std::copy_n(embedding_.row(token), c.dim, x.row(p));
  }
  if (capture) capture->assign(static_cast<size_t>(c.n_layers), {});

  for (int l = 0; l < c.n_layers; ++l) {
    const Layer& w = layers_[static_cast<size_t>(l)];
    const LlamaLayerWeights& norms = checkpoint_->layer(l);
    const Matrix xb = rmsnorm(x, norms.rms_att);
    const Matrix xq = formats_.transform ? Matrix() : fake_quantize(act, xb);
    Matrix q = apply(w.wq, xb, xq), k = apply(w.wk, xb, xq);
    const Matrix v = apply(w.wv, xb, xq);
    rope(q, k, c.head_size());
    Matrix out = cached_attention(q, k, v, c.n_heads, c.n_kv_heads, kv);
    add_into(x, apply(w.wo, out, formats_.transform ? Matrix() : fake_quantize(act, out)));

    const Matrix xf = rmsnorm(x, norms.rms_ffn);
    const Matrix xfq = formats_.transform ? Matrix() : fake_quantize(act, xf);
    Matrix hidden = apply(w.w1, xf, xfq);
    const Matrix gate = apply(w.w3, xf, xfq);
    for (size_t i = 0; i < hidden.data.size(); ++i) {
      float val = hidden.data[i];
      val *= (1.0f / (1.0f + std::exp(-val)));  // SiLU, as run.c writes it
      hidden.data[i] = val * gate.data[i];
    }
    add_into(x, apply(w.w2, hidden, formats_.transform ? Matrix() : fake_quantize(act, hidden)));
    if (capture) {
      (*capture)[static_cast<size_t>(l)] = {xb, std::move(q), std::move(k), v, std::move(out), xf, std::move(hidden)};
    }
  }
  const Matrix final_norm = rmsnorm(x, checkpoint_->rms_final());
  return matmul_nt(formats_.quantize_embeddings ? fake_quantize(act, final_norm) : final_norm, classifier_);
}

std::vector<std::vector<int>> tokenize_documents(const Tokenizer& tokenizer, const std::string& text) {
  std::vector<std::vector<int>> documents;
  const auto flush = [&](std::string& doc) {
    const auto first = doc.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) {
      const auto last = doc.find_last_not_of(" \t\r\n");
      documents.push_back(tokenizer.encode(std::string_view(doc).substr(first, last - first + 1), /*bos=*/true));
    }
    doc.clear();
  };
  std::string doc;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    if (line == "<|endoftext|>" || line == "<|endoftext|>\r") {
      flush(doc);
    } else {
      doc.append(line);
      doc += '\n';
    }
    start = end + 1;
  }
  flush(doc);
  return documents;
}

std::vector<std::vector<int>> split_documents(const std::vector<int>& tokens) {
  std::vector<std::vector<int>> documents;
  for (const int t : tokens) {
    if (documents.empty() || t == kBosToken) documents.emplace_back();
    documents.back().push_back(t);
  }
  return documents;
}

std::vector<std::vector<int>> evaluation_windows(const std::vector<std::vector<int>>& documents,
                                                 int seq_len, std::int64_t max_predicted) {
  std::vector<std::vector<int>> windows;
  std::int64_t predicted = 0;
  for (const auto& doc : documents) {
    for (size_t start = 0; start + 1 < doc.size(); start += static_cast<size_t>(seq_len)) {
      std::int64_t length = std::min<std::int64_t>(seq_len, static_cast<std::int64_t>(doc.size() - start));
      if (max_predicted > 0) length = std::min(length, max_predicted - predicted + 1);
      if (length < 2) continue;
      windows.emplace_back(doc.begin() + static_cast<std::ptrdiff_t>(start),
                           doc.begin() + static_cast<std::ptrdiff_t>(start) + length);
      predicted += length - 1;
      if (max_predicted > 0 && predicted >= max_predicted) return windows;
    }
  }
  return windows;
}

double PerplexityResult::perplexity() const {
  return predicted > 0 ? std::exp(nll_sum / static_cast<double>(predicted)) : NAN;
}

PerplexityResult perplexity(const LlamaModel& model, const std::vector<std::vector<int>>& windows,
                            int threads, const std::function<void(int, int)>& progress) {
  std::vector<double> nll(windows.size(), 0.0);
  std::mutex progress_mutex;
  int done = 0;
  parallel_for(static_cast<std::int64_t>(windows.size()), threads, [&](std::int64_t w) {
    const auto& tokens = windows[static_cast<size_t>(w)];
    const Matrix logits = model.forward(tokens);
    double sum = 0;
    for (size_t p = 0; p + 1 < tokens.size(); ++p) {
      const float* row = logits.row(static_cast<std::int64_t>(p));
      const double max = *std::max_element(row, row + logits.cols);
      double z = 0;
      for (std::int64_t j = 0; j < logits.cols; ++j) z += std::exp(static_cast<double>(row[j]) - max);
      sum += max + std::log(z) - static_cast<double>(row[tokens[p + 1]]);
    }
    nll[static_cast<size_t>(w)] = sum;
    if (progress) {
      const std::lock_guard lock(progress_mutex);
      progress(++done, static_cast<int>(windows.size()));
    }
  });
  PerplexityResult result;
  for (size_t w = 0; w < windows.size(); ++w) {
    result.nll_sum += nll[w];
    result.predicted += static_cast<std::int64_t>(windows[w].size()) - 1;
  }
  return result;
}

std::vector<int> generate_greedy(const LlamaModel& model, std::vector<int> prompt, int steps) {
  for (int s = 0; s < steps && static_cast<int>(prompt.size()) < window_tokens(model.config()); ++s) {
    const Matrix logits = model.forward(prompt);
    const float* last = logits.row(logits.rows - 1);
    prompt.push_back(static_cast<int>(std::max_element(last, last + logits.cols) - last));
  }
  return prompt;
}

}  // namespace nibble

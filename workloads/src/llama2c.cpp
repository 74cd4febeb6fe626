#include "nibble/workloads/llama2c.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "mapped_file.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

constexpr std::uint64_t kHeaderBytes = 7 * sizeof(std::int32_t);
// Bounds on each header value: generous for any llama2.c model, small enough that no product
// of two of them can be mistaken for a real size.
constexpr int kMaxDimension = 1 << 20;

std::int32_t read_i32(const std::uint8_t* p) {
  static_assert(std::endian::native == std::endian::little, "nibble assumes a little-endian host");
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

struct Llama2cCheckpoint::Mapping {
  MappedFile file;
};

Llama2cCheckpoint::~Llama2cCheckpoint() = default;
Llama2cCheckpoint::Llama2cCheckpoint(Llama2cCheckpoint&&) noexcept = default;
Llama2cCheckpoint& Llama2cCheckpoint::operator=(Llama2cCheckpoint&&) noexcept = default;
const std::string& Llama2cCheckpoint::path() const { return mapping_->file.path(); }

Llama2cCheckpoint::Llama2cCheckpoint(const std::string& path)
    : mapping_(std::make_unique<Mapping>(Mapping{MappedFile(path)})) {
  const MappedFile& file = mapping_->file;
  const auto fail = [&](const std::string& problem) { throw Error(path + ": " + problem); };
  if (file.size() < kHeaderBytes) {
    fail("truncated llama2.c checkpoint (" + std::to_string(file.size()) +
         " bytes, the header alone is 28)");
  }
  const char* names[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size",
                          "seq_len"};
  std::int32_t h[7];
  for (int i = 0; i < 7; ++i) h[i] = read_i32(file.data() + 4 * i);
  config_.shared_classifier = h[5] > 0;
  if (h[5] < 0 && h[5] != INT32_MIN) h[5] = -h[5];
  for (int i = 0; i < 7; ++i) {
    if (h[i] <= 0 || h[i] > kMaxDimension) {
      fail(std::string("header field ") + names[i] + " = " + std::to_string(read_i32(file.data() + 4 * i)) +
           " is outside [1, " + std::to_string(kMaxDimension) + "]");
    }
  }
  config_.dim = h[0];
  config_.hidden_dim = h[1];
  config_.n_layers = h[2];
  config_.n_heads = h[3];
  config_.n_kv_heads = h[4];
  config_.vocab_size = h[5];
  config_.seq_len = h[6];
  const LlamaConfig& c = config_;
  if (c.dim % c.n_heads != 0) fail("dim " + std::to_string(c.dim) + " is not a multiple of n_heads");
  if (c.n_heads % c.n_kv_heads != 0) fail("n_heads is not a multiple of n_kv_heads");
  if (c.head_size() % 2 != 0) fail("head size " + std::to_string(c.head_size()) + " is odd (RoPE needs pairs)");

  // Every count is a product of at most three header values below 2^20, so it fits in 64 bits;
  // the sum is checked anyway.
  const std::uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers,
                      vocab = c.vocab_size, kv = c.kv_dim(), seq = c.seq_len;
  const std::uint64_t counts[] = {vocab * dim,        layers * dim,          layers * dim * dim,
                                  layers * kv * dim,  layers * kv * dim,     layers * dim * dim,
                                  layers * dim,       layers * hidden * dim, layers * dim * hidden,
                                  layers * hidden * dim, dim,                seq * (dim / c.n_heads),
                                  c.shared_classifier ? 0 : vocab * dim};
  std::uint64_t floats = 0;
  for (std::uint64_t n : counts) floats = checked_add(floats, n, path + ": checkpoint size");
  const std::uint64_t expected = checked_add(kHeaderBytes, checked_mul(floats, 4, path + ": checkpoint size"),
                                             path + ": checkpoint size");
  if (file.size() != expected) {
    fail(std::string(file.size() < expected ? "truncated" : "oversized") + " llama2.c checkpoint: " +
         std::to_string(file.size()) + " bytes, the header (dim " + std::to_string(c.dim) +
         ", hidden " + std::to_string(c.hidden_dim) + ", layers " + std::to_string(c.n_layers) +
         ", vocab " + std::to_string(c.vocab_size) + (c.shared_classifier ? ", shared" : ", separate") +
         " classifier) implies " + std::to_string(expected));
  }

  const float* p = reinterpret_cast<const float*>(file.data() + kHeaderBytes);
  const auto take = [&](std::uint64_t n) {
    const float* at = p;
    p += n;
    return at;
  };
  token_embedding_ = MatrixView(take(vocab * dim), c.vocab_size, c.dim);
  const float* rms_att = take(layers * dim);
  const float* wq = take(layers * dim * dim);
  const float* wk = take(layers * kv * dim);
  const float* wv = take(layers * kv * dim);
  const float* wo = take(layers * dim * dim);
  const float* rms_ffn = take(layers * dim);
  const float* w1 = take(layers * hidden * dim);
  const float* w2 = take(layers * dim * hidden);
  const float* w3 = take(layers * hidden * dim);
  rms_final_ = take(dim);
  take(seq * (dim / c.n_heads));  // freq_cis_real and freq_cis_imag: run.c computes RoPE itself
  classifier_ = c.shared_classifier ? token_embedding_ : MatrixView(take(vocab * dim), c.vocab_size, c.dim);
  for (std::uint64_t l = 0; l < layers; ++l) {
    layers_.push_back({rms_att + l * dim,
                       MatrixView(wq + l * dim * dim, c.dim, c.dim),
                       MatrixView(wk + l * kv * dim, c.kv_dim(), c.dim),
                       MatrixView(wv + l * kv * dim, c.kv_dim(), c.dim),
                       MatrixView(wo + l * dim * dim, c.dim, c.dim),
                       rms_ffn + l * dim,
                       MatrixView(w1 + l * hidden * dim, c.hidden_dim, c.dim),
                       MatrixView(w2 + l * dim * hidden, c.dim, c.hidden_dim),
                       MatrixView(w3 + l * hidden * dim, c.hidden_dim, c.dim)});
  }
}

Tokenizer::Tokenizer(const std::string& path, int vocab_size) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path + ": cannot open file");
  const auto size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  const auto fail = [&](const std::string& problem) { throw Error(path + ": " + problem); };
  const auto read = [&](void* to, std::uint64_t n, const std::string& what) {
    if (!in.read(static_cast<char*>(to), static_cast<std::streamsize>(n))) {
      fail("truncated tokenizer file (" + what + ")");
    }
  };
  std::int32_t max_length = 0;
  read(&max_length, 4, "no max_token_length");
  if (max_length <= 0 || static_cast<std::uint64_t>(max_length) > size) {
    fail("max_token_length " + std::to_string(max_length) + " is not a length");
  }
  for (int i = 0; i < vocab_size; ++i) {
    float score = 0;
    std::int32_t length = 0;
    read(&score, 4, "token " + std::to_string(i) + " of " + std::to_string(vocab_size));
    read(&length, 4, "token " + std::to_string(i) + " of " + std::to_string(vocab_size));
    if (length < 0 || length > max_length) {
      fail("token " + std::to_string(i) + " has length " + std::to_string(length) +
           " (max_token_length " + std::to_string(max_length) + ")");
    }
    std::string piece(static_cast<size_t>(length), '\0');
    read(piece.data(), static_cast<std::uint64_t>(length), "token " + std::to_string(i) + " bytes");
    ids_.emplace(piece, i);  // the first of duplicate pieces wins
    pieces_.push_back(std::move(piece));
    scores_.push_back(score);
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    fail("trailing bytes after " + std::to_string(vocab_size) + " tokens (vocabulary of another model?)");
  }
}

int Tokenizer::lookup(std::string_view piece) const {
  const auto it = ids_.find(std::string(piece));
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int> Tokenizer::encode(std::string_view text, bool bos) const {
  std::vector<int> tokens;
  if (bos) tokens.push_back(kBosToken);
  if (!text.empty()) {
    if (const int space = lookup(" "); space >= 0) tokens.push_back(space);
  }
  for (size_t i = 0; i < text.size();) {
    // A UTF-8 character: a lead byte and its continuation bytes (10xxxxxx), at most 4 in all.
    size_t n = 1;
    while (i + n < text.size() && n < 4 && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) ++n;
    if (const int id = lookup(text.substr(i, n)); id >= 0) {
      tokens.push_back(id);
    } else {
      for (size_t b = 0; b < n; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned char>(text[i + b]));
        const int byte = lookup(name);
        tokens.push_back(byte >= 0 ? byte : kUnkToken);
      }
    }
    i += n;
  }
  for (;;) {
    float best_score = -1e10f;
    int best_id = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < tokens.size(); ++i) {
      const int id = lookup(pieces_[static_cast<size_t>(tokens[i])] + pieces_[static_cast<size_t>(tokens[i + 1])]);
      if (id >= 0 && scores_[static_cast<size_t>(id)] > best_score) {
        best_score = scores_[static_cast<size_t>(id)];
        best_id = id;
        best_at = i;
      }
    }
    if (best_id < 0) break;
    tokens[best_at] = best_id;
    tokens.erase(tokens.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
  }
  return tokens;
}

std::string Tokenizer::decode(int previous, int token) const {
  std::string piece = pieces_.at(static_cast<size_t>(token));
  if (previous == kBosToken && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  unsigned byte = 0;
  if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%02X>", &byte) == 1) {
    return std::string(1, static_cast<char>(byte));
  }
  return piece;
}

}  // namespace nibble

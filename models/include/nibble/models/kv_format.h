#pragma once
// KV-cache formats: how a Llama KV cache holds keys and values, named like block formats.
//
//   <block format>                     every token's key and value vector quantized along its
//                                      channels with that registry format (e.g. "nvfp4")
//   kivi[:bits=2][:group=32][:residual=128]
//                                      KIVI (Liu et al., 2024, "KIVI: A Tuning-Free Asymmetric
//                                      2bit Quantization for KV Cache"): keys per channel (groups
//                                      of `group` tokens), values per token (groups of `group`
//                                      channels), asymmetric INT`bits` (the int<b>_g<g>_asym
//                                      registry format, FP16 scale and zero point); the most
//                                      recent tokens stay in FP16: with n tokens cached the
//                                      oldest floor(max(0, n - residual) / group) * group are
//                                      quantized, so at least `residual` (fewer than
//                                      residual + group) recent tokens stay FP16 and keys are
//                                      quantized in whole token groups, as KIVI's streaming
//                                      cache does. bits 2..8, group 1..1024, residual >= 0.
//
// A cache of a window's keys K [tokens, channels] holds, for a query that sees n tokens, the
// rows quantized_keys(K) for the oldest quantized_tokens(n) tokens and full_precision(K) for the
// rest (same for V). A token's quantized value never depends on later tokens, so one
// quantization serves every query.
#include <memory>
#include <string>
#include <string_view>

#include "nibble/models/tensor.h"

namespace nibble {

class KvFormat {
 public:
  virtual ~KvFormat() = default;
  virtual std::string name() const = 0;
  virtual Matrix quantize_keys(MatrixView keys) const = 0;
  virtual Matrix quantize_values(MatrixView values) const = 0;
  virtual std::int64_t quantized_tokens(std::int64_t cached) const { return cached; }
  // What the unquantized recent tokens are stored as (KIVI: FP16); a copy by default.
  virtual Matrix full_precision(MatrixView x) const;
  // Storage per cached element once quantized (scales and zero points included).
  virtual double bits_per_element() const = 0;
};

// Throws nibble::Error for an unknown name or option (through the format registry).
std::shared_ptr<const KvFormat> make_kv_format(std::string_view name);

}  // namespace nibble

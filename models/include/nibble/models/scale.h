#pragma once
// Block scales: storage in QuantizedTensor::scales and their exact values.
#include <cstdint>
#include <string_view>

#include "nibble/models/block_format.h"
#include "nibble/models/element.h"

namespace nibble {

// How a block scale is stored: an element spec (e8m0, ue4m3, fp16, bf16) or raw FP32.
struct ScaleSpec {
  const ElementSpec* spec;  // nullptr for FP32
  int bytes() const { return spec ? (spec->bits + 7) / 8 : 4; }
  int bits() const { return spec ? spec->bits : 32; }
  std::string_view name() const { return spec ? spec->name : "fp32"; }
  // Nearest stored scale to s (RNE, saturating). A positive s that rounds to zero is raised
  // to the smallest positive scale, so that dividing by the scale stays finite.
  std::uint32_t encode_positive(float s) const;
  float decode(std::uint32_t code) const;
  ExactScale exact(std::uint32_t code) const;
  std::uint32_t smallest_positive() const;
  std::uint32_t nan_code() const;
};

// Parses "fp16", "bf16", "fp32", "e8m0", "ue4m3".
ScaleSpec scale_spec(std::string_view name);

std::uint32_t load_scale(const std::uint8_t* p, int bytes);
void store_scale(std::uint8_t* p, int bytes, std::uint32_t code);

// The exact value of a float: (24-bit integer) * 2^e.
ExactScale exact_float(float v);

}  // namespace nibble

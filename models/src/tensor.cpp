#include "nibble/models/tensor.h"

namespace nibble {

std::size_t QuantizedTensor::storage_bytes() const {
  return elements.size() + scales.size() + aux.size() + (tensor_scale != 1.0f ? 4 : 0);
}

void pack_code(std::uint8_t* stream, std::int64_t index, int bits, std::uint32_t code) {
  const std::int64_t bit = index * bits;
  std::uint8_t* p = stream + bit / 8;
  const int shift = static_cast<int>(bit % 8);
  const std::uint32_t mask = ((1u << bits) - 1) << shift;
  const std::uint32_t value = (code << shift) & mask;
  for (int i = 0, n = (shift + bits + 7) / 8; i < n; ++i) {
    const auto byte_mask = static_cast<std::uint8_t>(mask >> (8 * i));
    p[i] = static_cast<std::uint8_t>((p[i] & ~byte_mask) | ((value >> (8 * i)) & byte_mask));
  }
}

}  // namespace nibble

#pragma once
// One FormatFamily per format file; registry.cpp lists them, one line each.
#include <memory>
#include <string>
#include <vector>

#include "../format_options.h"
#include "nibble/models/block_format.h"
#include "nibble/models/error.h"

namespace nibble {

struct FormatFamily {
  std::string names;
  std::string options;
  std::vector<std::string> listed;  // instances shown by `nibble formats`
  // Returns nullptr when options.base() is not one of this family's names.
  std::shared_ptr<BlockFormat> (*make)(FormatOptions& options);
};

// out[r * cols + c] = value(element code, one-byte scale code) for every element: the
// dequantize loop of formats whose scales are single bytes.
template <typename Value>
void dequantize_codes(const QuantizedTensor& q, float* out, Value value) {
  for (std::int64_t r = 0; r < q.rows; ++r) {
    const std::uint8_t* codes = q.row_elements(r);
    const std::uint8_t* scales = q.scales.data() + r * q.blocks_per_row();
    for (std::int64_t c = 0; c < q.cols; ++c) {
      out[r * q.cols + c] = value(unpack_code(codes, c, q.element_bits), scales[c / q.block]);
    }
  }
}

FormatFamily mx_family();
FormatFamily nv_family();
FormatFamily int_group_family();
FormatFamily afpq_family();
FormatFamily bcq_family();

}  // namespace nibble

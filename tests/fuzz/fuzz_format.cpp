// The format-name parser, then quantize, dequantize and the golden dot on a small tensor.
// Input: a format name, a newline, then float32 values (at most 4 rows of up to 256).
// Checked beyond "no crash": dequantization keeps the shape, and inputs within FLT_MAX / 4
// dequantize to finite values (formats saturate; nearer FLT_MAX a value may round up past it,
// e.g. E5M2 x 2^113 rounds 1.92 x 2^127 to 2^128, which FP32 cannot hold).
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "fuzz_input.h"
#include "nibble/models/dot.h"
#include "nibble/models/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const auto* newline = static_cast<const std::uint8_t*>(std::memchr(data, '\n', size));
  if (!newline) return 0;
  const std::string name(reinterpret_cast<const char*>(data), static_cast<size_t>(newline - data));
  const size_t values = (size - static_cast<size_t>(newline + 1 - data)) / sizeof(float);
  if (values == 0) return 0;
  const std::int64_t rows = values >= 8 ? 2 : 1;
  const std::int64_t cols = std::min<std::int64_t>(256, static_cast<std::int64_t>(values) / rows);
  nibble::Matrix x(rows, cols);
  std::memcpy(x.data.data(), newline + 1, x.data.size() * sizeof(float));
  nibble::fuzz::expect_clean([&] {
    const auto format = nibble::make_format(name);
    const nibble::QuantizedTensor q = format->quantize(x);
    const nibble::Matrix y = format->dequantize(q);
    if (y.rows != x.rows || y.cols != x.cols) __builtin_trap();
    bool moderate = true;
    for (float v : x.data) moderate = moderate && std::fabs(v) <= std::numeric_limits<float>::max() / 4;
    if (moderate) {
      for (float v : y.data) {
        if (!std::isfinite(v)) __builtin_trap();
      }
    }
    if (format->supports_dot()) nibble::golden_dot(q, 0, q, rows - 1);
  });
  return 0;
}

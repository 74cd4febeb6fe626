// nibble's MX formats against tests/reference/mx_reference.py, an independent NumPy
// implementation of the OCP MX v1.0 spec (RNE): every dequantized value and every shared
// exponent must agree bit for bit. python3 and NumPy are CI dependencies (scripts/setup.sh):
// without them this test fails rather than skips.
#include <gtest/gtest.h>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "nibble/models/registry.h"

namespace nibble {
namespace {

template <typename T>
void write_raw(const std::string& path, const std::vector<T>& v) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

template <typename T>
std::vector<T> read_raw(const std::string& path, size_t count) {
  std::vector<T> v(count);
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(T)));
  EXPECT_TRUE(in) << "short read from " << path;
  return v;
}

// Rows of different character: gaussian with row scales from 2^-30 to 2^30, laplace, heavy
// tails, exact ties at every element binade, zero blocks, amax just below a power of two,
// FP32 subnormals, values near FLT_MAX, and NaN/Inf blocks.
Matrix reference_inputs() {
  const std::int64_t rows = 64, cols = 256;
  Matrix m(rows, cols);
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> scale_exp(-30, 30);
  std::uniform_int_distribution<int> small(-24, 24);
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = m.row(r);
    const float scale = std::exp2(static_cast<float>(scale_exp(rng)));
    for (std::int64_t c = 0; c < cols; ++c) {
      switch (r % 8) {
        case 0: row[c] = normal(rng) * scale; break;
        case 1: row[c] = std::log(normal(rng) * normal(rng) + 1e-3f) * scale; break;
        case 2: row[c] = normal(rng) / (std::fabs(normal(rng)) + 1e-2f); break;
        case 3: row[c] = static_cast<float>(small(rng)) * 0.125f * scale; break;   // ties
        case 4: row[c] = c < 32 ? 0.0f : normal(rng); break;                       // zero block
        case 5: row[c] = c % 32 == 0 ? std::nextafter(std::exp2(static_cast<float>(r % 5)), 0.0f)
                                     : normal(rng) * 0.3f; break;
        case 6: row[c] = normal(rng) * (c < 128 ? 1e-41f : 3e37f); break;         // extremes
        default: row[c] = normal(rng); break;
      }
    }
  }
  m.row(7)[3] = std::numeric_limits<float>::quiet_NaN();
  m.row(15)[40] = -std::numeric_limits<float>::infinity();
  return m;
}

class MxReference : public ::testing::TestWithParam<const char*> {};

TEST_P(MxReference, BitExactAgainstIndependentNumpyImplementation) {
  const std::string format = GetParam();
  const Matrix x = reference_inputs();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("nibble_mxref_" + std::to_string(getpid()) + "_" + format);
  std::filesystem::create_directories(dir);
  const std::string in = (dir / "in.f32").string(), out = (dir / "out.f32").string(),
                    scales = (dir / "scales.i32").string();
  write_raw(in, x.data);
  const std::string command = NIBBLE_PYTHON " " NIBBLE_SOURCE_DIR "/tests/reference/mx_reference.py " +
                              format + " " + std::to_string(x.rows) + " " + std::to_string(x.cols) +
                              " " + in + " " + out + " " + scales;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  const auto f = make_format(format);
  const QuantizedTensor q = f->quantize(x);
  const Matrix y = f->dequantize(q);
  const auto expected = read_raw<float>(out, x.data.size());
  const auto expected_scales = read_raw<std::int32_t>(scales, q.scales.size());
  int mismatches = 0;
  for (size_t i = 0; i < expected.size() && mismatches < 10; ++i) {
    const bool same = std::isnan(expected[i]) ? std::isnan(y.data[i])
                                              : std::bit_cast<std::uint32_t>(expected[i]) ==
                                                    std::bit_cast<std::uint32_t>(y.data[i]);
    if (!same) {
      ++mismatches;
      ADD_FAILURE() << format << " element " << i << ": x=" << x.data[i] << " nibble=" << y.data[i]
                    << " reference=" << expected[i];
    }
  }
  for (size_t b = 0; b < expected_scales.size(); ++b) {
    const int nibble_scale = q.scales[b] == 0xFF ? 255 : q.scales[b] - 127;
    ASSERT_EQ(nibble_scale, expected_scales[b]) << format << " block " << b;
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(AllMx, MxReference,
                         ::testing::Values("mxfp4", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3",
                                           "mxfp8_e5m2", "mxint8"));

}  // namespace
}  // namespace nibble

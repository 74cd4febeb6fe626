// Every block format and option against tests/reference/formats_reference.py, independent NumPy
// quantizers written from the specifications: dequantized values, element codes (padding
// included), block scale codes, side data and the per-tensor scale must agree bit for bit.
// The script also writes the inputs: "mixed" (random rows, zero/NaN/Inf blocks, FP32
// subnormals, values near FLT_MAX, partial last blocks) and "ties" (every block's values on
// grid points and midpoints of its own scale). python3 and NumPy are CI dependencies
// (scripts/setup.sh): without them this test fails rather than skips.
#include <gtest/gtest.h>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "every_target.h"
#include "nibble/models/bcq.h"
#include "nibble/models/registry.h"

namespace nibble {
namespace {

constexpr std::int64_t kRows = 40, kCols = 200;  // 200: a partial last block for every size

template <typename T>
std::vector<T> read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::vector<T> v(static_cast<size_t>(in.tellg()) / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  return v;
}

bool same_float(float a, float b) {
  return std::isnan(a) ? std::isnan(b)
                       : std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

// Every family, and every option of it at least once.
constexpr const char* kFormats[] = {
    "mxfp4", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8",
    "mxfp4:scale=ceil", "mxfp4:scale=even", "mxfp4:scale=rceil", "mxfp6_e2m3:scale=even",
    "mxfp6_e3m2:scale=rceil", "mxfp8_e4m3:scale=even", "mxfp8_e5m2:scale=ceil",
    "mxint8:scale=ceil", "mxint8:scale=even", "mxint8:scale=rceil", "mxfp4:block=16",
    "mxfp8_e4m3:block=64:scale=rceil", "mxfp4:round=away", "mxfp6_e2m3:round=away:block=64",
    "mxint8:range=full", "mxint8:range=full:round=away",
    "nvfp4", "nvint4", "nvfp4:arith=modelopt", "nvint4:arith=modelopt", "nvfp4:round=away",
    "nvint4:round=away:block=32",
    "int4_g32", "int4_g128", "int4_g32_asym", "int4_g128_asym", "int8_g32:scale=fp32",
    "int2_g16_asym:scale=fp32", "int3_g64:round=away", "int5_g32_asym:round=away",
    "int4_g32:scale=bf16", "int4_g64_asym:scale=bf16",
    "afpq4_g32", "afpq4_g128:scale=bf16", "afpq4_g64:scale=fp32:round=away",
    "bcq", "bcq:scale=e8m0", "bcq:scale=bf16", "bcq:scale=fp32", "bcq:nc=8:lb=4:la=32",
    "bcq:b=3:e=5:nc=4"};
constexpr const char* kKinds[] = {"mixed", "ties"};

// Compares one case directory written by the script with nibble's quantization of its input.
void expect_case_matches(const std::string& format, const std::string& kind,
                         const std::filesystem::path& dir) {
  SCOPED_TRACE(format + " on " + kind + " inputs");
  Matrix x(kRows, kCols);
  x.data = read_raw<float>(dir / "input.f32");
  ASSERT_EQ(x.data.size(), static_cast<size_t>(kRows * kCols));
  std::shared_ptr<const BlockFormat> f;
  if (format.rfind("bcq", 0) == 0) {  // BCQ encodes with the codebooks the script chose
    const BcqParams params = parse_bcq_params(format);
    f = make_bcq(params, {params.codebooks, params.entries(), read_raw<float>(dir / "codebooks.f32")});
  } else {
    f = make_format(format);
  }
  const QuantizedTensor q = f->quantize(x);
  const Matrix y = f->dequantize(q);

  const auto values = read_raw<float>(dir / "values.f32");
  ASSERT_EQ(values.size(), y.data.size());
  int mismatches = 0;
  for (size_t i = 0; i < values.size() && mismatches < 5; ++i) {
    if (!same_float(values[i], y.data[i])) {
      ++mismatches;
      ADD_FAILURE() << "value " << i << ": x=" << x.data[i] << " nibble=" << y.data[i]
                    << " reference=" << values[i];
    }
  }
  const auto codes = read_raw<std::int32_t>(dir / "codes.i32");
  ASSERT_EQ(codes.size(), static_cast<size_t>(q.rows * q.padded_cols()));
  for (std::int64_t i = 0; i < q.rows * q.padded_cols() && mismatches < 10; ++i) {
    const std::int64_t r = i / q.padded_cols(), c = i % q.padded_cols();
    const auto code = static_cast<std::int32_t>(unpack_code(q.row_elements(r), c, q.element_bits));
    if (code != codes[static_cast<size_t>(i)]) {
      ++mismatches;
      ADD_FAILURE() << "code of row " << r << " element " << c << ": nibble=" << code
                    << " reference=" << codes[static_cast<size_t>(i)];
    }
  }
  EXPECT_EQ(read_raw<std::uint8_t>(dir / "scales.u8"), q.scales) << "block scale codes";
  EXPECT_EQ(read_raw<std::uint8_t>(dir / "aux.u8"), q.aux) << "side data";
  const auto tensor_scale = read_raw<float>(dir / "tensor.f32");
  ASSERT_EQ(tensor_scale.size(), 1u);
  EXPECT_TRUE(same_float(tensor_scale[0], q.tensor_scale))
      << "tensor scale: reference " << tensor_scale[0] << " nibble " << q.tensor_scale;
}

// One script run for every case (NumPy starts once), then one comparison per case.
TEST(FormatReference, EveryFormatAndOptionBitExactAgainstIndependentNumpy) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("nibble_formats_reference_" + std::to_string(getpid()));
  std::string command = NIBBLE_PYTHON " " NIBBLE_SOURCE_DIR
                        "/tests/reference/formats_reference.py cases " +
                        std::to_string(kRows) + " " + std::to_string(kCols) + " " + dir.string();
  for (const char* format : kFormats) {
    for (const char* kind : kKinds) command += std::string(" '") + kind + ":" + format + "'";
  }
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  for (const std::int64_t target : test_targets()) {  // every vector kernel target
    select_target(target);
    SCOPED_TRACE("target " + test_target_name(target));
    int index = 0;
    for (const char* format : kFormats) {
      for (const char* kind : kKinds) expect_case_matches(format, kind, dir / std::to_string(index++));
    }
  }
  select_target(0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nibble

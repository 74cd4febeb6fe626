#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>

#include "expect_error.h"
#include "nibble/models/error.h"
#include "nibble/workloads/npy.h"

namespace nibble {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("nibble_npy_" + std::to_string(getpid()) + "_" + name)).string();
}

// Writes an .npy by hand: magic, version, header (padded to `align`), then raw bytes.
std::string write_raw(const std::string& name, const std::string& dict, const std::string& data,
                      int major = 1, size_t align = 64, const char* magic = "\x93NUMPY") {
  std::string header = dict;
  const size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % align) header += ' ';
  header += '\n';
  std::string bytes(magic, 6);
  bytes += static_cast<char>(major);
  bytes += '\0';
  const auto len = static_cast<std::uint32_t>(header.size());
  bytes += static_cast<char>(len & 0xFF);
  bytes += static_cast<char>((len >> 8) & 0xFF);
  if (major != 1) {
    bytes += static_cast<char>((len >> 16) & 0xFF);
    bytes += static_cast<char>(len >> 24);
  }
  bytes += header + data;
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * sizeof(float));
}

TEST(Npy, Float32RoundTrip) {
  Matrix m(2, 3);
  m.data = {1.5f, -2.0f, 0.0f, std::numeric_limits<float>::denorm_min(), 1e30f, -0.0f};
  const std::string path = temp_path("roundtrip.npy");
  write_npy(path, m);
  const Matrix r = read_npy(path);
  EXPECT_EQ(r.rows, 2);
  EXPECT_EQ(r.cols, 3);
  for (size_t i = 0; i < m.data.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(r.data[i]), std::bit_cast<std::uint32_t>(m.data[i]));
  }
  // NumPy's layout: header padded so the data starts at a multiple of 64.
  EXPECT_EQ((std::filesystem::file_size(path) - 6 * 4) % 64, 0u);
}

TEST(Npy, Float16IsWidenedExactly) {
  // 0x3C00 = 1, 0xC000 = -2, 0x0001 = 2^-24 (subnormal), 0x7C00 = Inf, 0x7E00 = NaN, 0x7BFF = 65504.
  const unsigned char halfs[] = {0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C, 0x00, 0x7E, 0xFF, 0x7B};
  const auto path = write_raw("half.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }",
                              std::string(reinterpret_cast<const char*>(halfs), sizeof halfs));
  const Matrix m = read_npy(path);
  EXPECT_EQ(m.data[0], 1.0f);
  EXPECT_EQ(m.data[1], -2.0f);
  EXPECT_EQ(m.data[2], 0x1p-24f);
  EXPECT_EQ(m.data[3], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(m.data[4]));
  EXPECT_EQ(m.data[5], 65504.0f);
}

TEST(Npy, HeaderVariantsAreAccepted) {
  const std::string data = floats({1, 2, 3, 4});
  // Other key order, double quotes, no trailing comma, version 2, 16-byte alignment, 1-D.
  for (const auto& [dict, major, align, rows] :
       {std::tuple{std::string("{'shape': (2, 2), 'fortran_order': False, 'descr': '<f4'}"), 1, 64, 2},
        std::tuple{std::string("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,2)}"), 2, 16, 2},
        std::tuple{std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"), 3, 64, 1}}) {
    const Matrix m = read_npy(write_raw("variant.npy", dict, data, major, align));
    EXPECT_EQ(m.rows, rows);
    EXPECT_EQ(m.rows * m.cols, 4);
    EXPECT_EQ(m.data[3], 4.0f);
  }
}

TEST(Npy, MalformedFilesAreOneLineErrors) {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  const std::string data = floats({1, 2, 3, 4});
  const std::pair<std::string, std::string> cases[] = {
      {temp_path("does_not_exist.npy"), "cannot open"},
      {write_raw("magic.npy", good, data, 1, 64, "\x93NUMPX"), "bad magic"},
      {write_raw("version.npy", good, data, 9), "version"},
      {write_raw("truncated.npy", good, data.substr(0, 10)), "truncated data"},
      {write_raw("trailing.npy", good, data + "xx"), "trailing"},
      {write_raw("be.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", data), "dtype"},
      {write_raw("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", data), "dtype"},
      {write_raw("i4.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", data), "dtype"},
      {write_raw("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data), "Fortran"},
      {write_raw("rank3.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", data), "rank 3"},
      {write_raw("rank0.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data), "rank 0"},
      {write_raw("noshape.npy", "{'descr': '<f4', 'fortran_order': False}", data), "shape"},
      {write_raw("nodict.npy", "garbage", data), "dict"},
      {write_raw("empty.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 2), }", ""), "empty"},
      // Shape entries: negative, malformed, beyond any file, and a product that wraps int64.
      {write_raw("negative.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }", data), "negative"},
      {write_raw("letters.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2a, 2), }", data), "expected ')'"},
      {write_raw("huge_entry.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 2), }", data), "exceeds"},
      {write_raw("wraps.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967297), }", data), "overflows"},
      // A 16 GB claim in a small file fails on the size check, before any allocation.
      {write_raw("claims.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", data), "needs 17179869184 bytes"},
      {write_raw("twice.npy", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data), "twice"},
      {write_raw("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1}", data), "unknown key 'x'"},
      {write_raw("unterminated.npy", "{'descr': '<f4", data), "unterminated"},
      // A 40 KB header of spaces inside the dict: read in one pass (a regex recursed per byte).
      {write_raw("long.npy", "{'descr': '<f4', 'fortran_order': False," + std::string(40000, ' ') + "'shape': (2, 3), }", data, 2), "needs 24 bytes"},
  };
  for (const auto& [path, expected] : cases) {
    expect_error([&, path = path] { read_npy(path); }, {expected, path});
  }
  // A short file cut inside the magic.
  const std::string stub = temp_path("stub.npy");
  std::ofstream(stub, std::ios::binary) << "\x93NU";
  EXPECT_THROW(read_npy(stub), Error);
}

TEST(Npy, UnwritablePathIsAnError) {
  EXPECT_THROW(write_npy("/nonexistent-dir/x.npy", Matrix(1, 1)), Error);
}

}  // namespace
}  // namespace nibble

#include "nibble/workloads/npy.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include "nibble/models/element.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(path + ": " + problem);
}

// The header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// Values are pulled out by key; anything unexpected is an error.
std::string dict_value(const std::string& path, const std::string& header, const std::string& key,
                       const std::string& value_pattern) {
  const std::regex re("['\"]" + key + "['\"]\\s*:\\s*(" + value_pattern + ")");
  std::smatch m;
  if (!std::regex_search(header, m, re)) fail(path, "npy header has no valid '" + key + "' entry");
  return m[1];
}

std::vector<std::int64_t> parse_shape(const std::string& path, const std::string& text) {
  std::vector<std::int64_t> shape;
  const std::regex number("\\d+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number);
       it != std::sregex_iterator(); ++it) {
    const std::string digits = it->str();
    if (digits.size() > 15) fail(path, "npy shape entry " + digits + " is too large");
    shape.push_back(std::stoll(digits));
  }
  return shape;
}

}  // namespace

Matrix read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open file");
  char prefix[10];
  if (!in.read(prefix, 8)) fail(path, "truncated npy file (no magic)");
  if (std::memcmp(prefix, kMagic, kMagicSize) != 0) fail(path, "not an npy file (bad magic)");
  const int major = static_cast<unsigned char>(prefix[6]);
  std::uint32_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) fail(path, "truncated npy header");
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) fail(path, "truncated npy header");
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (std::uint32_t{b[3]} << 24);
  } else {
    fail(path, "unsupported npy format version " + std::to_string(major));
  }
  if (header_len > (1u << 24)) fail(path, "npy header length is implausible");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) fail(path, "truncated npy header");
  if (header.find('{') == std::string::npos || header.find('}') == std::string::npos) {
    fail(path, "npy header is not a dict");
  }

  const std::string descr = dict_value(path, header, "descr", "'[^']*'|\"[^\"]*\"");
  const std::string dtype = descr.substr(1, descr.size() - 2);
  const bool half = dtype == "<f2";
  if (dtype != "<f4" && !half) {
    fail(path, "unsupported dtype '" + dtype + "' (nibble reads little-endian float32 '<f4' or "
                                               "float16 '<f2')");
  }
  if (dict_value(path, header, "fortran_order", "True|False") == "True") {
    fail(path, "Fortran-order arrays are not supported (save with C order)");
  }
  const auto shape = parse_shape(path, dict_value(path, header, "shape", "\\([^)]*\\)"));
  if (shape.empty() || shape.size() > 2) {
    fail(path, "expected a 2-D array, got rank " + std::to_string(shape.size()));
  }
  const std::int64_t rows = shape.size() == 2 ? shape[0] : 1;
  const std::int64_t cols = shape.back();
  if (rows == 0 || cols == 0) fail(path, "array is empty");
  if (rows * cols > (std::int64_t{1} << 34)) fail(path, "array is too large");

  const std::int64_t count = rows * cols;
  const size_t width = half ? 2 : 4;
  std::vector<char> raw(static_cast<size_t>(count) * width);
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) {
    fail(path, "truncated data: expected " + std::to_string(count) + " values of " +
                   std::to_string(width) + " bytes");
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    fail(path, "trailing bytes after the " + std::to_string(count) + " values of the shape");
  }

  Matrix m(rows, cols);
  if (half) {
    for (std::int64_t i = 0; i < count; ++i) {
      const auto code = static_cast<std::uint32_t>(static_cast<unsigned char>(raw[2 * i]) |
                                                   (static_cast<unsigned char>(raw[2 * i + 1]) << 8));
      m.data[i] = static_cast<float>(decode(spec::kFP16, code));
    }
  } else {
    static_assert(std::endian::native == std::endian::little, "nibble assumes a little-endian host");
    std::memcpy(m.data.data(), raw.data(), raw.size());
  }
  return m;
}

void write_npy(const std::string& path, const Matrix& m) {
  std::ostringstream dict;
  dict << "{'descr': '<f4', 'fortran_order': False, 'shape': (" << m.rows << ", " << m.cols
       << "), }";
  std::string header = dict.str();
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64 and
  // ended by a newline, as NumPy writes it.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) fail(path, "cannot open file for writing");
  out.write(kMagic, kMagicSize);
  const char version[2] = {1, 0};
  out.write(version, 2);
  const char len[2] = {static_cast<char>(header.size() & 0xFF),
                       static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(m.data.data()),
            static_cast<std::streamsize>(m.data.size() * sizeof(float)));
  out.close();
  if (!out) fail(path, "write failed");
}

}  // namespace nibble

#include "nibble/workloads/npy.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "nibble/models/checked.h"
#include "nibble/models/element.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(path + ": " + problem);
}

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// The header is a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// read by a single forward scan (no regex: std::regex recurses per character and overflows
// the stack on long headers). As in NumPy, exactly these three keys, each once.
class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& text) : path_(path), text_(text) {}

  Header parse() {
    Header h;
    bool seen[3] = {false, false, false};
    skip_space();
    if (peek() != '{') error("is not a dict literal");
    ++pos_;
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      const int which = key == "descr" ? 0 : key == "fortran_order" ? 1 : key == "shape" ? 2 : -1;
      if (which < 0) error("unknown key '" + key + "' (expected descr, fortran_order, shape)");
      if (seen[which]) error("key '" + key + "' appears twice");
      seen[which] = true;
      skip_space();
      expect(':');
      skip_space();
      if (which == 0) h.descr = string_literal();
      if (which == 1) h.fortran_order = boolean();
      if (which == 2) h.shape = shape();
      skip_space();
      if (peek() != ',') break;
      ++pos_;
    }
    skip_space();
    expect('}');
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the dict");
    for (int k = 0; k < 3; ++k) {
      if (!seen[k]) {
        error(std::string("no '") + (k == 0 ? "descr" : k == 1 ? "fortran_order" : "shape") +
              "' entry");
      }
    }
    return h;
  }

 private:
  [[noreturn]] void error(const std::string& problem) const {
    fail(path_, "npy header: " + problem + " (at byte " + std::to_string(pos_) + ")");
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n'))
      ++pos_;
  }
  void expect(char c) {
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') error("expected a quoted string");
    const size_t close = text_.find(quote, pos_ + 1);
    if (close == std::string::npos) error("unterminated string");
    std::string value = text_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    return value;
  }
  bool boolean() {
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    error("fortran_order is not True or False");
  }
  // "(a, b, ...)" of non-negative integers; a trailing comma is allowed, as Python writes (n,).
  std::vector<std::int64_t> shape() {
    expect('(');
    std::vector<std::int64_t> dims;
    for (;;) {
      skip_space();
      if (peek() == ')') break;
      if (peek() == '-') error("shape entry is negative");
      if (peek() < '0' || peek() > '9') error("shape entry is not an integer");
      std::int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (kMaxDimension - (peek() - '0')) / 10) {
          error("shape entry exceeds " + std::to_string(kMaxDimension));
        }
        v = v * 10 + (peek() - '0');
        ++pos_;
      }
      if (dims.size() == 2) error("shape has rank 3 or more (nibble reads rank 1 and 2)");
      dims.push_back(v);
      skip_space();
      if (peek() != ',') break;
      ++pos_;
    }
    expect(')');
    return dims;
  }

  // Any single dimension above 2^40 cannot match a file on disk; the limit keeps the digit
  // loop far from int64 overflow.
  static constexpr std::int64_t kMaxDimension = std::int64_t{1} << 40;
  const std::string& path_;
  const std::string& text_;
  size_t pos_ = 0;
};

}  // namespace

Matrix read_npy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, not an npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open file");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::int64_t>(in.tellg());
  in.seekg(0);
  char prefix[10];
  if (file_size < 8 || !in.read(prefix, 8)) fail(path, "truncated npy file (no magic)");
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
  const std::int64_t data_offset = (major == 1 ? 10 : 12) + std::int64_t{header_len};
  if (data_offset > file_size) {
    fail(path, "truncated npy header: it claims " + std::to_string(header_len) +
                   " bytes, the file holds " + std::to_string(file_size));
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) fail(path, "truncated npy header");
  const Header h = HeaderParser(path, header).parse();

  const bool half = h.descr == "<f2";
  if (h.descr != "<f4" && !half) {
    fail(path, "unsupported dtype '" + h.descr + "' (nibble reads little-endian float32 '<f4' or "
                                                 "float16 '<f2')");
  }
  if (h.fortran_order) fail(path, "Fortran-order arrays are not supported (save with C order)");
  if (h.shape.empty()) fail(path, "expected a 2-D array, got rank 0");
  const std::int64_t rows = h.shape.size() == 2 ? h.shape[0] : 1;
  const std::int64_t cols = h.shape.back();
  if (rows == 0 || cols == 0) fail(path, "array is empty");

  // The data size is checked against the file before anything is allocated for it.
  const std::int64_t width = half ? 2 : 4;
  const std::string shape_text =
      "(" + std::to_string(rows) + (h.shape.size() == 2 ? ", " + std::to_string(cols) : "") + ")";
  const std::int64_t count = checked_mul(rows, cols, path + ": npy shape " + shape_text);
  const std::int64_t data_bytes = checked_mul(count, width, path + ": npy shape " + shape_text);
  const std::int64_t held = file_size - data_offset;
  if (held < data_bytes) {
    fail(path, "truncated data: shape " + shape_text + " needs " + std::to_string(data_bytes) +
                   " bytes of '" + h.descr + "' values, the file holds " + std::to_string(held));
  }
  if (held > data_bytes) {
    fail(path, "trailing bytes after the " + std::to_string(count) + " values of the shape " +
                   shape_text);
  }

  Matrix m(rows, cols);
  if (half) {
    std::vector<unsigned char> raw(static_cast<size_t>(data_bytes));
    if (!in.read(reinterpret_cast<char*>(raw.data()), data_bytes)) fail(path, "read failed");
    for (std::int64_t i = 0; i < count; ++i) {
      const auto code = static_cast<std::uint32_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
      m.data[i] = static_cast<float>(decode(spec::kFP16, code));
    }
  } else {
    static_assert(std::endian::native == std::endian::little, "nibble assumes a little-endian host");
    if (!in.read(reinterpret_cast<char*>(m.data.data()), data_bytes)) fail(path, "read failed");
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

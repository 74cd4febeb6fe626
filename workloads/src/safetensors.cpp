#include "nibble/workloads/safetensors.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "mapped_file.h"
#include "nibble/models/element.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

// A header larger than this is not a tensor index (the reference implementation caps it at
// 100 MB too).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

// Element sizes of every dtype the safetensors specification defines, so that any file's
// offsets can be checked even where its tensors cannot be read.
int dtype_bytes(const std::string& dtype) {
  static const std::pair<const char*, int> kSizes[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2},
      {"U16", 2},  {"F16", 2}, {"BF16", 2}, {"I32", 4},    {"U32", 4},     {"F32", 4},
      {"I64", 8},  {"U64", 8}, {"F64", 8}};
  for (const auto& [name, bytes] : kSizes) {
    if (dtype == name) return bytes;
  }
  return 0;
}

}  // namespace

struct SafetensorsFile::Mapping {
  MappedFile file;
};

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;

const std::string& SafetensorsFile::path() const { return mapping_->file.path(); }

SafetensorsFile::SafetensorsFile(const std::string& path)
    : mapping_(std::make_unique<Mapping>(Mapping{MappedFile(path)})) {
  const MappedFile& file = mapping_->file;
  const auto fail = [&](const std::string& problem) -> void { throw Error(path + ": " + problem); };
  if (file.size() < 8) fail("truncated safetensors file (no 8-byte header length)");
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) header_bytes = header_bytes << 8 | file.data()[i];
  if (header_bytes > kMaxHeaderBytes) {
    fail("header length " + std::to_string(header_bytes) + " exceeds the limit of " +
         std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_bytes > file.size() - 8) {
    fail("truncated safetensors file: header length " + std::to_string(header_bytes) +
         " but only " + std::to_string(file.size() - 8) + " bytes follow");
  }
  data_start_ = 8 + header_bytes;
  const std::uint64_t buffer_bytes = file.size() - data_start_;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file.data() + 8, file.data() + data_start_);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("malformed JSON header (") + e.what() + ")");
  }
  if (!header.is_object()) fail("JSON header is not an object");
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "': ";
    if (!value.is_object()) fail(where + "entry is not an object");
    SafetensorsEntry entry;
    entry.name = name;
    if (!value.contains("dtype") || !value["dtype"].is_string()) fail(where + "no string 'dtype'");
    entry.dtype = value["dtype"].get<std::string>();
    const int element_bytes = dtype_bytes(entry.dtype);
    if (element_bytes == 0) fail(where + "unknown dtype '" + entry.dtype + "'");
    if (!value.contains("shape") || !value["shape"].is_array()) fail(where + "no array 'shape'");
    std::uint64_t count = 1;
    for (const auto& dim : value["shape"]) {
      if (!dim.is_number_unsigned()) fail(where + "shape entries must be non-negative integers");
      const auto d = dim.get<std::uint64_t>();
      if (d > static_cast<std::uint64_t>(INT64_MAX)) fail(where + "shape entry is too large");
      entry.shape.push_back(static_cast<std::int64_t>(d));
      count = checked_mul(count, d, path + ": " + where + "element count");
    }
    const auto& offsets = value.contains("data_offsets") ? value["data_offsets"] : nlohmann::json();
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      fail(where + "'data_offsets' must be two non-negative integers");
    }
    entry.begin = offsets[0].get<std::uint64_t>();
    entry.end = offsets[1].get<std::uint64_t>();
    if (entry.begin > entry.end) fail(where + "data_offsets begin after they end");
    if (entry.end > buffer_bytes) {
      fail(where + "data_offsets end at " + std::to_string(entry.end) + " beyond the " +
           std::to_string(buffer_bytes) + "-byte data buffer (truncated file?)");
    }
    const std::uint64_t bytes = checked_mul(count, static_cast<std::uint64_t>(element_bytes),
                                            path + ": " + where + "byte size");
    if (bytes != entry.end - entry.begin) {
      fail(where + "shape and dtype need " + std::to_string(bytes) + " bytes but data_offsets span " +
           std::to_string(entry.end - entry.begin));
    }
    entries_.push_back(std::move(entry));
  }
  std::sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.name < b.name;
  });
  for (size_t i = 1; i < entries_.size(); ++i) {
    if (entries_[i].begin < entries_[i - 1].end) {
      fail("tensors '" + entries_[i - 1].name + "' and '" + entries_[i].name + "' overlap");
    }
  }
}

std::vector<const SafetensorsEntry*> SafetensorsFile::match(std::string_view glob) const {
  const std::string pattern(glob);
  std::vector<const SafetensorsEntry*> found;
  for (const SafetensorsEntry& e : entries_) {
    if (::fnmatch(pattern.c_str(), e.name.c_str(), 0) == 0) found.push_back(&e);
  }
  return found;
}

Matrix SafetensorsFile::read(const SafetensorsEntry& entry) const {
  const bool f32 = entry.dtype == "F32", f16 = entry.dtype == "F16", bf16 = entry.dtype == "BF16";
  if (!f32 && !f16 && !bf16) {
    throw Error(path() + ": tensor '" + entry.name + "' has dtype " + entry.dtype +
                " (nibble reads F32, F16 and BF16)");
  }
  std::int64_t cols = entry.shape.empty() ? 1 : entry.shape.back();
  std::int64_t rows = 1;
  for (size_t i = 0; i + 1 < entry.shape.size(); ++i) rows *= entry.shape[i];  // checked at open
  if (rows == 0 || cols == 0) throw Error(path() + ": tensor '" + entry.name + "' is empty");
  Matrix m(rows, cols);
  const std::uint8_t* bytes = mapping_->file.data() + data_start_ + entry.begin;
  if (f32) {
    std::memcpy(m.data.data(), bytes, m.data.size() * sizeof(float));
    return m;
  }
  const ElementSpec& spec = f16 ? spec::kFP16 : spec::kBF16;
  for (size_t i = 0; i < m.data.size(); ++i) {
    const auto code = static_cast<std::uint32_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
    m.data[i] = static_cast<float>(decode(spec, code));
  }
  return m;
}

}  // namespace nibble

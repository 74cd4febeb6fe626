#pragma once
// .safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {...}}
// and the data buffer, offsets relative to its start.
//
// The file is memory-mapped. Opening checks everything before any tensor is read: the header
// length against the file size, the JSON, every entry's fields and types, every dtype's element
// size times its shape (overflow-checked) against its offsets, and every offset range against
// the buffer; any failure is a nibble::Error naming the file, the tensor and the problem.
// Tensors of any dtype may be listed; F32, F16 and BF16 ones can be read (widened exactly to
// float32). A tensor of rank >= 2 reads as a matrix of prod(shape[:-1]) rows and shape[-1]
// columns (the last axis is the reduction axis of a linear layer's [out, in] weight); rank 1
// reads as one row, rank 0 as 1 x 1.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/models/tensor.h"

namespace nibble {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // as written: "F32", "F16", "BF16", "I8", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offsets into the data buffer
  std::uint64_t end = 0;
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;

  const std::string& path() const;
  // In file order of their data offsets.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  // The entries whose names match a shell glob (fnmatch: *, ?, [...]), in entries() order.
  std::vector<const SafetensorsEntry*> match(std::string_view glob) const;
  // Throws nibble::Error for a dtype other than F32, F16 or BF16.
  Matrix read(const SafetensorsEntry& entry) const;

 private:
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  std::uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> entries_;
};

}  // namespace nibble

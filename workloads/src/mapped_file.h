#pragma once
// A read-only memory map of a whole file: tensor sources hand out pointers into it instead of
// copying weights. Movable, not copyable; unmaps on destruction.
#include <cstddef>
#include <cstdint>
#include <string>

namespace nibble {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws nibble::Error "<path>: cannot open file" (or map) on failure. An empty file maps to
  // size() == 0 and data() == nullptr.
  explicit MappedFile(const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// a * b, or throws nibble::Error "<what> overflows" when it does not fit in 64 bits.
std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& what);
std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const std::string& what);

}  // namespace nibble

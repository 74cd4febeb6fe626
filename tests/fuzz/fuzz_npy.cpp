// .npy reader. The custom mutator keeps the magic and a well-formed length field and edits the
// header's fields (version, dtype, order, shape entries near the interesting limits) so that
// inputs get past the magic and reach the shape and size checks; plain byte mutation rarely does.
#include <cstring>
#include <random>
#include <string>

#include "fuzz_input.h"
#include "nibble/workloads/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".npy");
  nibble::fuzz::expect_clean([&] {
    const nibble::Matrix m = nibble::read_npy(path);
    // What was read has the size its shape says.
    if (m.data.size() != static_cast<size_t>(m.rows * m.cols)) __builtin_trap();
  });
  return 0;
}

#ifdef NIBBLE_LIBFUZZER
extern "C" size_t LLVMFuzzerMutate(std::uint8_t* data, size_t size, size_t max_size);

namespace {

const char* const kShapeEntries[] = {"0", "1", "2", "-1", "-2", "65536", "4294967296", "4294967297",
                                     "2147483648", "9223372036854775807", "99999999999999999999",
                                     "1099511627776", "3037000500", "x", ""};
const char* const kDescrs[] = {"<f4", "<f2", ">f4", "<f8", "|u1", "", "<f4'", "<i4"};

// Assembles magic, version, length field, header and data as NumPy lays them out.
size_t assemble(std::uint8_t* out, size_t max_size, int version, const std::string& header,
                const std::string& payload) {
  std::string bytes = std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0';
  const auto length = static_cast<std::uint32_t>(header.size());
  for (int b = 0; b < (version == 1 ? 2 : 4); ++b) bytes += static_cast<char>(length >> (8 * b));
  bytes += header + payload;
  const size_t n = std::min(bytes.size(), max_size);
  std::memcpy(out, bytes.data(), n);
  return n;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(std::uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  std::minstd_rand rng(seed);
  if (rng() % 4 == 0 || size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0) {
    // Plain byte mutation, and a fresh well-formed file when the magic is gone.
    if (rng() % 2 == 0 && size >= 10) return LLVMFuzzerMutate(data, size, max_size);
  }
  const auto pick = [&](const auto& list) { return list[rng() % std::size(list)]; };
  const int version = rng() % 8 == 0 ? static_cast<int>(rng() % 5) : 1 + static_cast<int>(rng() % 3);
  std::string header = std::string("{'descr': '") + pick(kDescrs) + "', 'fortran_order': " +
                       (rng() % 8 == 0 ? "True" : "False") + ", 'shape': (";
  const int rank = static_cast<int>(rng() % 4);
  for (int i = 0; i < rank; ++i) header += std::string(pick(kShapeEntries)) + (i + 1 < rank || rank == 1 ? ", " : "");
  header += "), }";
  if (rng() % 8 == 0) header.insert(header.size() - 1, std::string(rng() % 3000, ' '));
  header += '\n';
  std::string payload(rng() % 64, '\0');
  for (char& c : payload) c = static_cast<char>(rng());
  size = assemble(data, max_size, version, header, payload);
  // Then, sometimes, byte mutation on top (still past the magic).
  return rng() % 2 == 0 ? LLVMFuzzerMutate(data, size, max_size) : size;
}
#endif

#pragma once
// Output toggles per cell type of a netlist rewritten by gate_netlist.py: its cells_o port
// holds each type's cell outputs in whole 32-bit words (padding bits are constant zeros), so a
// type's toggles between two samples are the popcounts of its words' XOR.
#include <bit>
#include <cstdint>
#include <vector>

namespace nibble::rtl {

struct CellRange {
  const char* type;
  int first_word, words, cells;  // where the type's outputs lie in cells_o
};

class ToggleCounter {
 public:
  explicit ToggleCounter(const std::vector<CellRange>& ranges)
      : ranges_(ranges), previous_(words(ranges)), toggles_(ranges.size()) {}

  // Takes one sample of cells_o (after a clock edge); the first only sets the reference.
  void sample(const std::uint32_t* cells) {
    for (size_t t = 0; t < ranges_.size(); ++t) {
      for (int w = ranges_[t].first_word; w < ranges_[t].first_word + ranges_[t].words; ++w) {
        const auto i = static_cast<size_t>(w);
        if (samples_) toggles_[t] += std::popcount(cells[i] ^ previous_[i]);
        previous_[i] = cells[i];
      }
    }
    ++samples_;
  }
  std::int64_t toggles(size_t type) const { return toggles_[type]; }
  std::int64_t intervals() const { return samples_ ? samples_ - 1 : 0; }  // cycles counted

 private:
  static size_t words(const std::vector<CellRange>& r) {
    return r.empty() ? 0 : static_cast<size_t>(r.back().first_word + r.back().words);
  }
  const std::vector<CellRange>& ranges_;
  std::vector<std::uint32_t> previous_;
  std::vector<std::int64_t> toggles_;
  std::int64_t samples_ = 0;
};

}  // namespace nibble::rtl

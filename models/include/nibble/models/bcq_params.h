#pragma once
// The parameters of a BCQ format (see bcq.h for the format itself): part of FormatInfo, so
// every layer reads them from the format instead of parsing its name.
#include <string>

namespace nibble {

struct BcqParams {
  int block = 8;          // L_b, 2..32
  int array = 64;         // L_A, a multiple of L_b
  int codebooks = 16;     // N_c, 1..64
  int index_bits = 4;     // b, 1..4: 2^b entries per codebook
  int entry_bits = 6;     // e, 2..8: signed integer grid of the entries
  bool float_entries = false;
  std::string scale = "ue4m3";  // ue4m3 | e8m0 | bf16 | fp32

  int entries() const { return 1 << index_bits; }
  int selector_bits() const;
  int grid_max() const { return (1 << (entry_bits - 1)) - 1; }  // M
  std::string name() const;  // canonical "bcq:..." with the non-default parameters
  // Spelled out: nvcc's front end rejects a defaulted comparison.
  bool operator==(const BcqParams& o) const {
    return block == o.block && array == o.array && codebooks == o.codebooks && index_bits == o.index_bits &&
           entry_bits == o.entry_bits && float_entries == o.float_entries && scale == o.scale;
  }
};

}  // namespace nibble

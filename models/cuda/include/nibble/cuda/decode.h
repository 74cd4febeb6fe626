#pragma once
// Decode helpers shared by the CUDA kernels and their CPU tests: one definition, compiled by
// nvcc for the device and by plain g++ for the host, where the tests check it against models/.
//
// Every supported format turns a 4-bit code into an int8 through a 16-entry table built on
// the host from models' exact integers (decode_integer, or a BCQ codebook):
//   E2M1 (mxfp4, nvfp4): 2 x value, the integers {0, 1, 2, 3, 4, 6, 8, 12} and negatives,
//         so the element exponent is -1 (E2M1 x 2 is exactly an int8 in [-12, 12]);
//   INT4 (int4_g32, int4_g128, nvint4): the two's-complement value in [-8, 7];
//   BCQ:  the codebook entry, an integer on the e-bit grid ([-31, 31] for e = 6).
// Products of two such int8 values summed over a block fit an int32 with room to spare
// (BCQ worst case 64 x 31 x 31 = 61,504), so every block sum is exact.
#include <cstdint>

#if defined(__CUDACC__)
#define NIBBLE_HD __host__ __device__ __forceinline__
#else
#define NIBBLE_HD inline
#endif

namespace nibble::cuda {

// A 16-entry int8 lookup table: entries 0..7 in words[0..1], entries 8..15 in words[2..3],
// byte i of the pair holding entry i (the operand order of PRMT / __byte_perm).
struct NibbleTable {
  std::uint32_t words[4];
};

// PRMT in its default mode: byte i of the result is byte (s >> 4i) & 7 of the 8-byte value
// {y, x} (x holds bytes 0..3). Every selector nibble nibble builds has bit 3 clear, so the
// sign-replicating mode of PRMT is never used and this emulation covers the host side.
NIBBLE_HD std::uint32_t byte_perm(std::uint32_t x, std::uint32_t y, std::uint32_t s) {
#if defined(__CUDA_ARCH__)
  return __byte_perm(x, y, s);
#else
  const std::uint64_t bytes = (static_cast<std::uint64_t>(y) << 32) | x;
  std::uint32_t out = 0;
  for (int i = 0; i < 4; ++i) {
    const unsigned index = (s >> (4 * i)) & 7u;
    out |= static_cast<std::uint32_t>((bytes >> (8 * index)) & 0xFFu) << (8 * i);
  }
  return out;
#endif
}

// Decodes the four codes in the low 16 bits of `codes` (code i in nibble i) into four int8
// bytes (byte i = table[code i]). Three PRMTs: the low three bits of each code pick a byte
// from both table halves, then bit 3 picks the half.
NIBBLE_HD std::uint32_t decode4(std::uint32_t codes, const NibbleTable& table) {
  const std::uint32_t index = codes & 0x7777u;
  const std::uint32_t low_half = byte_perm(table.words[0], table.words[1], index);
  const std::uint32_t high_half = byte_perm(table.words[2], table.words[3], index);
  // Nibble i of the pick is i (byte i of low_half) or i + 4 (byte i of high_half).
  const std::uint32_t pick = 0x3210u | ((codes & 0x8888u) >> 1);
  return byte_perm(low_half, high_half, pick);
}

// Eight codes (one 32-bit word, element 2i in the low nibble of byte i, as models packs
// them) to eight int8 values in element order: elements 0..3 in lo, 4..7 in hi.
struct Int8x8 {
  std::uint32_t lo, hi;
};
NIBBLE_HD Int8x8 decode8(std::uint32_t codes, const NibbleTable& table) {
  return {decode4(codes & 0xFFFFu, table), decode4(codes >> 16, table)};
}

// BCQ: the selector of sub-block `sub` (8 elements) within its block array's selector word
// (4-bit selectors packed LSB-first, as models packs aux).
NIBBLE_HD unsigned bcq_selector(std::uint32_t selector_word, int sub) {
  return (selector_word >> (4 * sub)) & 0xFu;
}

// Eight codes of one 8-element sub-block decoded through the table its BCQ selector picks
// (selector_word = 0 for formats with a single table): a block array of 64 elements holds
// sub-blocks 0..7 in its selector word.
NIBBLE_HD Int8x8 decode_sub_block(std::uint32_t codes, const NibbleTable* tables,
                                  std::uint32_t selector_word, int sub) {
  return decode8(codes, tables[bcq_selector(selector_word, sub)]);
}

// Zeroes the int8 lanes at and beyond `valid` (0..8): the elements past a row's last
// column, which the golden dot treats as 0 whatever their code decodes to (BCQ codebooks
// need not hold 0). Zeroing one operand is enough to zero the products.
NIBBLE_HD Int8x8 keep_first(Int8x8 v, int valid) {
  if (valid >= 8) return v;
  if (valid <= 0) return {0, 0};
  const std::uint64_t mask = (std::uint64_t{1} << (8 * valid)) - 1;
  return {v.lo & static_cast<std::uint32_t>(mask), v.hi & static_cast<std::uint32_t>(mask >> 32)};
}

// Signed dot product of four int8 lanes, added to c (DP4A).
NIBBLE_HD std::int32_t dot4(std::uint32_t a, std::uint32_t b, std::int32_t c) {
#if defined(__CUDA_ARCH__)
  return __dp4a(static_cast<int>(a), static_cast<int>(b), c);
#else
  for (int i = 0; i < 4; ++i) {
    c += static_cast<std::int8_t>(a >> (8 * i)) * static_cast<std::int8_t>(b >> (8 * i));
  }
  return c;
#endif
}

// FP32 multiply and add, each rounded once: never contracted into an FMA, because the
// numerics contract rounds the block partial before it is added.
NIBBLE_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
NIBBLE_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// The block partial of the golden dot, given the exact integer block sum and both folded
// block scales (models' scale value x 2^element_exponent, from KernelLayout::scale_values). For every supported format the scale product is
// exact in FP32 (E8M0: powers of two; UE4M3: 4-bit significands; FP16: 11-bit ones), and
// |block_sum| < 2^24 converts exactly, so the one rounding here is the contract's
// fp32_rne(partial) (up to FP32 underflow of the scale product, far below any real scale).
NIBBLE_HD float block_partial(std::int32_t block_sum, float folded_scale_a, float folded_scale_b) {
  return mul_rn(static_cast<float>(block_sum), mul_rn(folded_scale_a, folded_scale_b));
}

}  // namespace nibble::cuda

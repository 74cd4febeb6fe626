// llama2.c checkpoints; the first bytes of a checkpoint that loads are also read as its
// tokenizer file.
#include "fuzz_input.h"
#include "nibble/workloads/llama2c.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".bin");
  nibble::fuzz::expect_clean([&] { nibble::Llama2cCheckpoint checkpoint(path); });
  nibble::fuzz::expect_clean([&] { nibble::Tokenizer tokenizer(path, 32); });
  return 0;
}

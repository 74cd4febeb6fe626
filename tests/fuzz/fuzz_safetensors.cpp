// .safetensors files: the header is parsed and every tensor that reads is read whole.
#include "fuzz_input.h"
#include "nibble/workloads/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".safetensors");
  nibble::fuzz::expect_clean([&] {
    const nibble::SafetensorsFile file(path);
    for (const nibble::SafetensorsEntry* entry : file.match("*")) file.read(*entry);
  });
  return 0;
}

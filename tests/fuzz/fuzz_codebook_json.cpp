// BCQ codebook files (JSON); a file that loads also quantizes a small tensor with its codebooks.
#include "fuzz_input.h"
#include "nibble/models/bcq.h"
#include "nibble/workloads/codebook_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = nibble::fuzz::write_input(data, size, ".json");
  nibble::fuzz::expect_clean([&] {
    nibble::CodebookFile file = nibble::load_codebooks(path);
    const auto format = nibble::make_bcq(file.params, std::move(file.codebooks));
    nibble::Matrix x(2, 64);
    for (size_t i = 0; i < x.data.size(); ++i) x.data[i] = static_cast<float>(i % 17) - 8.0f;
    format->dequantize(format->quantize(x));
  });
  return 0;
}

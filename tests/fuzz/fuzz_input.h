#pragma once
// Shared by the fuzz targets. nibble's readers take paths, so each input is written to a
// per-process file on a RAM disk first. A nibble::Error is the expected outcome of bad input;
// any other exception escapes the target and libFuzzer reports it as a crash: the contract is
// one nibble::Error line, never a raw library message.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "nibble/models/error.h"

namespace nibble::fuzz {

inline std::string write_input(const std::uint8_t* data, size_t size, const char* extension) {
  static const std::string path = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                                  "/nibble_fuzz_" + std::to_string(getpid()) + extension;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Runs fn(), treating a nibble::Error as a handled rejection.
template <typename Fn>
void expect_clean(Fn fn) {
  try {
    fn();
  } catch (const Error&) {
  }
}

}  // namespace nibble::fuzz

#pragma once
// Every user-facing failure in nibble (bad format string, malformed file, wrong shape) is a
// nibble::Error whose message is one line naming the problem; the CLI prints it and exits 2.
#include <stdexcept>
#include <string>

namespace nibble {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace nibble

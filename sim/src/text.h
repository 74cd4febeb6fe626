#pragma once
// Small text helpers shared by the simulator's file readers.
#include <string>

namespace nibble {

// s without leading and trailing blanks (spaces, tabs, carriage returns).
inline std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") + 1 - first);
}

}  // namespace nibble

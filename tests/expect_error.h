#pragma once
// Shared by the test suites: bad input must raise a nibble::Error whose message is one line
// and names the problem (every `needle` appears in it).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nibble/models/error.h"

namespace nibble {

template <typename Call>
void expect_error(Call call, const std::vector<std::string>& needles) {
  try {
    call();
    ADD_FAILURE() << "no error; expected one mentioning '" << (needles.empty() ? "" : needles[0]) << "'";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const std::string& needle : needles) EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

}  // namespace nibble

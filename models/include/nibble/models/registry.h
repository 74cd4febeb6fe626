#pragma once
// The format registry: every block format nibble knows, built from a name string such as
// "mxfp4", "mxfp4:scale=rceil:block=16", "nvfp4", "int4_g128_asym" or "afpq4_g128".
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/models/block_format.h"

namespace nibble {

// Builds a format from its name; throws nibble::Error naming the problem for an unknown
// format or option.
std::shared_ptr<const BlockFormat> make_format(std::string_view name);

struct FamilyHelp {
  std::string names;    // the names the family accepts
  std::string options;  // its ":key=value" options
};
std::vector<FamilyHelp> format_families();

// The formats `nibble formats` lists and `nibble eval` evaluates by default.
std::vector<std::string> listed_formats();

}  // namespace nibble

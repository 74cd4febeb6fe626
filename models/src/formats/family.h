#pragma once
// One FormatFamily per format file; registry.cpp lists them, one line each.
#include <memory>
#include <string>
#include <vector>

#include "../format_options.h"
#include "nibble/models/block_format.h"
#include "nibble/models/error.h"

namespace nibble {

struct FormatFamily {
  std::string names;
  std::string options;
  std::vector<std::string> listed;  // instances shown by `nibble formats`
  // Returns nullptr when options.base() is not one of this family's names.
  std::shared_ptr<BlockFormat> (*make)(FormatOptions& options);
};

FormatFamily mx_family();
FormatFamily nv_family();
FormatFamily int_group_family();
FormatFamily afpq_family();
FormatFamily bcq_family();

}  // namespace nibble

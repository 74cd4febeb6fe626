#include "nibble/models/registry.h"

#include "formats/family.h"
#include "nibble/models/error.h"

namespace nibble {
namespace {

const std::vector<FormatFamily>& families() {
  static const std::vector<FormatFamily> all = {
      mx_family(),
      nv_family(),
      int_group_family(),
      afpq_family(),
      bcq_family(),
  };
  return all;
}

}  // namespace

std::shared_ptr<const BlockFormat> make_format(std::string_view name) {
  FormatOptions options(name);
  for (const FormatFamily& family : families()) {
    if (auto format = family.make(options)) {
      options.finish();
      return format;
    }
  }
  std::string known;
  for (const FormatFamily& family : families()) known += (known.empty() ? "" : ", ") + family.names;
  throw Error("unknown format '" + options.base() + "' (known: " + known + ")");
}

std::vector<FamilyHelp> format_families() {
  std::vector<FamilyHelp> help;
  for (const FormatFamily& family : families()) help.push_back({family.names, family.options});
  return help;
}

std::vector<std::string> listed_formats() {
  std::vector<std::string> names;
  for (const FormatFamily& family : families()) {
    names.insert(names.end(), family.listed.begin(), family.listed.end());
  }
  return names;
}

}  // namespace nibble

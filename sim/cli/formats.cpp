#include <cstdio>

#include "command.h"
#include "nibble/models/registry.h"

namespace nibble::cli {

int run_formats(const Args& args) {
  boost::program_options::options_description options("formats options");
  boost::program_options::variables_map vm;
  if (!parse_options("formats", args, options, vm)) return 0;

  std::printf("%-16s %-8s %12s %6s %-6s %15s\n", "name", "element", "element_bits", "block",
              "scale", "bits_per_element");
  for (const std::string& name : listed_formats()) {
    const auto format = make_format(name);  // owns the info below (ASan: a use after free)
    const FormatInfo& info = format->info();
    std::printf("%-16s %-8s %12d %6d %-6s %15.4f\n", info.name.c_str(), info.element.c_str(),
                info.element_bits, info.block, info.scale.c_str(), info.bits_per_element);
  }
  std::printf("\nnames and options (name:key=value:...):\n");
  for (const FamilyHelp& family : format_families()) {
    std::printf("  %s\n      %s\n", family.names.c_str(), family.options.c_str());
  }
  return 0;
}

}  // namespace nibble::cli

#include "nibble/workloads/yaml_file.h"

#include "nibble/models/error.h"

namespace nibble {

YAML::Node load_yaml_file(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error(path + ": cannot open file");
  } catch (const YAML::ParserException& e) {
    throw Error(path + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML (" + e.msg + ")");
  }
}

}  // namespace nibble

#include "nibble/workloads/yaml_file.h"

#include <filesystem>

#include "nibble/models/error.h"

namespace nibble {

YAML::Node load_yaml_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, not a file");
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error(path + ": cannot open file");
  } catch (const YAML::ParserException& e) {
    throw Error(path + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML (" + e.msg + ")");
  } catch (const std::exception& e) {  // a read error of the stream, say
    throw Error(path + ": cannot read file (" + std::string(e.what()) + ")");
  }
}

}  // namespace nibble

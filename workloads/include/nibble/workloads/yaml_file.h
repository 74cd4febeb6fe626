#pragma once
// The one way nibble opens a YAML file (hardware, energy table, models, sweep specs).
#include <yaml-cpp/yaml.h>

#include <string>

namespace nibble {

// A missing file or malformed YAML is a nibble::Error naming the file (and the line).
YAML::Node load_yaml_file(const std::string& path);

}  // namespace nibble

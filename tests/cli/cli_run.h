#pragma once
// Runs the built `nibble` binary the way a user does: exit code, stdout and stderr.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace nibble {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

inline CliRun nibble(const std::string& args) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  // ctest runs tests in parallel processes: name the capture files after this process.
  const std::string tag = std::to_string(getpid());
  const std::string out = dir + "/nibble_cli_out_" + tag, err = dir + "/nibble_cli_err_" + tag;
  const int status = std::system((std::string(NIBBLE_CLI) + " " + args + " >" + out + " 2>" + err).c_str());
  const auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  return {WEXITSTATUS(status), slurp(out), slurp(err)};
}

inline std::string temp(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("nibble_cli_" + std::to_string(getpid()) + "_" + name)).string();
}

}  // namespace nibble

// Runs every case in tests/cli/bad_inputs/ through the `nibble` binary and checks the promise
// made for bad input: exit status 2, exactly one line on stderr (the expected one), no output
// file left behind, under 256 MB of address space and under 2 seconds.
//
// A case file (<name>.case) holds, line by line:
//   # comment                   what the case checks
//   args: <nibble arguments>    split at spaces; "..." keeps spaces (and "" is an empty argument)
//   error: <stderr line>        the exact line nibble must print
//   file <NAME>                 a raw input file; its content is the indented lines that follow
//   npy <NAME> <version>        an .npy built from the indented lines that follow: the first is
//                               the header dict (padded as NumPy pads it), the rest the data
// Content lines start with two spaces (dropped) and are joined without line breaks; in them,
// \n, \t, \\ and \xHH stand for bytes, and \*<count>x<HH> for <count> copies of byte HH.
// In args and error, {NAME} is the path of input NAME and {out} an empty output directory.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace nibble {
namespace {

namespace fs = std::filesystem;

const fs::path kCaseDir = fs::path(NIBBLE_SOURCE_DIR) / "tests/cli/bad_inputs";

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif
// AddressSanitizer reserves terabytes of shadow address space and runs several times slower:
// under it the memory bound cannot be set and the time bound is scaled.
constexpr rlim_t kAddressSpaceBytes = rlim_t{256} << 20;
constexpr double kSeconds = kSanitized ? 10.0 : 2.0;

struct InputFile {
  std::string name;
  std::string kind;  // "file" or "npy"
  int npy_version = 1;
  std::vector<std::string> lines;
};

struct Case {
  std::string args, error;
  std::vector<InputFile> inputs;
};

std::string unescape(const std::string& text, const std::string& where) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size()) throw std::runtime_error(where + ": trailing backslash");
    const char c = text[++i];
    if (c == 'n') out += '\n';
    else if (c == 't') out += '\t';
    else if (c == '\\') out += '\\';
    else if (c == 'x') {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (c == '*') {
      const size_t x = text.find('x', i);
      const auto count = std::stoul(text.substr(i + 1, x - i - 1));
      out.append(count, static_cast<char>(std::stoi(text.substr(x + 1, 2), nullptr, 16)));
      i = x + 2;
    } else {
      throw std::runtime_error(where + ": unknown escape \\" + std::string(1, c));
    }
  }
  return out;
}

Case parse_case(const fs::path& path) {
  std::ifstream in(path);
  Case c;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("  ", 0) == 0) {
      if (c.inputs.empty()) throw std::runtime_error(path.string() + ": content outside a file");
      c.inputs.back().lines.push_back(line.substr(2));
    } else if (line.rfind("args: ", 0) == 0) {
      c.args = line.substr(6);
    } else if (line.rfind("error: ", 0) == 0) {
      c.error = line.substr(7);
    } else if (line.rfind("file ", 0) == 0) {
      c.inputs.push_back({line.substr(5), "file", 1, {}});
    } else if (line.rfind("npy ", 0) == 0) {
      std::istringstream fields(line.substr(4));
      InputFile f{"", "npy", 1, {}};
      fields >> f.name >> f.npy_version;
      c.inputs.push_back(f);
    } else {
      throw std::runtime_error(path.string() + ": cannot read line '" + line + "'");
    }
  }
  if (c.args.empty() || c.error.empty()) throw std::runtime_error(path.string() + ": needs args and error");
  return c;
}

std::string file_content(const InputFile& f, const std::string& where) {
  std::string content;
  if (f.kind == "file") {
    for (const std::string& l : f.lines) content += unescape(l, where);
    return content;
  }
  if (f.lines.empty()) throw std::runtime_error(where + ": npy needs a header line");
  // NumPy's layout: magic, version, little-endian header length, header padded with spaces
  // and ended by a newline so the data starts at a multiple of 64.
  std::string header = unescape(f.lines[0], where);
  const size_t prefix = f.npy_version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64) header += ' ';
  header += '\n';
  content = std::string("\x93NUMPY", 6) + static_cast<char>(f.npy_version) + '\0';
  const auto length = static_cast<std::uint32_t>(header.size());
  for (size_t b = 0; b < (f.npy_version == 1 ? 2u : 4u); ++b) content += static_cast<char>(length >> (8 * b));
  content += header;
  for (size_t i = 1; i < f.lines.size(); ++i) content += unescape(f.lines[i], where);
  return content;
}

std::string substitute(std::string text, const std::map<std::string, std::string>& paths) {
  for (const auto& [name, path] : paths) {
    const std::string key = "{" + name + "}";
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + path.size())) {
      text.replace(at, key.size(), path);
    }
  }
  return text;
}

std::vector<std::string> split_args(const std::string& text) {
  std::vector<std::string> args;
  std::string current;
  bool quoted = false, started = false;
  for (char ch : text) {
    if (ch == '"') {
      quoted = !quoted;
      started = true;
    } else if (ch == ' ' && !quoted) {
      if (started) args.push_back(current);
      current.clear();
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) args.push_back(current);
  return args;
}

struct Outcome {
  int status = -1;
  std::string err;
  double seconds = 0;
  bool timed_out = false;
};

// Runs nibble with `args` in a child limited to 256 MB of address space; stdout is discarded.
Outcome run_nibble(const std::vector<std::string>& args, const fs::path& err_path) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    if (!kSanitized) {
      const rlimit limit{kAddressSpaceBytes, kAddressSpaceBytes};
      setrlimit(RLIMIT_AS, &limit);
    }
    FILE* err = std::freopen(err_path.c_str(), "w", stderr);
    FILE* out = std::freopen("/dev/null", "w", stdout);
    if (!err || !out) _exit(127);
    std::vector<char*> argv{const_cast<char*>(NIBBLE_CLI)};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(NIBBLE_CLI, argv.data());
    _exit(127);
  }
  Outcome o;
  int status = 0;
  // Poll so that a hang is killed (and reported) instead of stalling the suite.
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (done == pid) break;
    if (o.seconds > 5 * kSeconds) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      o.timed_out = true;
      break;
    }
    usleep(2000);
  }
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(err_path);
  std::stringstream s;
  s << in.rdbuf();
  o.err = s.str();
  return o;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kCaseDir)) {
    if (entry.path().extension() == ".case") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BadInput : public ::testing::TestWithParam<std::string> {};

TEST_P(BadInput, ExitsTwoWithTheExpectedLineAndLeavesNothing) {
  const Case c = parse_case(kCaseDir / (GetParam() + ".case"));
  const fs::path dir = fs::temp_directory_path() / ("nibble_bad_" + std::to_string(getpid()) + "_" + GetParam());
  fs::remove_all(dir);
  fs::create_directories(dir / "in");
  fs::create_directories(dir / "out");
  std::map<std::string, std::string> paths{{"out", (dir / "out").string()}};
  for (const InputFile& f : c.inputs) {
    const fs::path p = dir / "in" / f.name;
    std::ofstream(p, std::ios::binary) << file_content(f, GetParam());
    paths[f.name] = p.string();
  }
  const Outcome o = run_nibble(split_args(substitute(c.args, paths)), dir / "stderr");

  EXPECT_FALSE(o.timed_out) << "killed after " << o.seconds << " s";
  EXPECT_EQ(o.status, 2) << o.err;
  EXPECT_EQ(o.err, substitute(c.error, paths) + "\n");
  EXPECT_LT(o.seconds, kSeconds);
  EXPECT_TRUE(fs::is_empty(dir / "out")) << "output left behind: " << fs::directory_iterator(dir / "out")->path();
  EXPECT_EQ(static_cast<size_t>(std::distance(fs::directory_iterator(dir / "in"), fs::directory_iterator())),
            c.inputs.size())
      << "a file appeared next to the inputs";
  if (!HasFailure()) fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInput, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

TEST(BadInputSuite, CoversAtLeastSixtyCases) { EXPECT_GE(case_names().size(), 60u); }

}  // namespace
}  // namespace nibble

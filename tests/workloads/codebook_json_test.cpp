#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "expect_error.h"
#include "nibble/models/error.h"
#include "nibble/workloads/codebook_json.h"

namespace nibble {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("nibble_books_" + std::to_string(getpid()) + "_" + name)).string();
}

TEST(CodebookJson, RoundTrip) {
  CodebookFile file;
  file.params = parse_bcq_params("bcq:nc=8");
  file.codebooks = default_codebooks(file.params);
  file.calibrated_on = "a.npy, b.npy";
  file.mse_per_iteration = {0.6, 0.55, 0.54};
  const std::string path = temp_path("round.json");
  save_codebooks(path, file);
  const CodebookFile back = load_codebooks(path);
  EXPECT_EQ(back.params, file.params);
  EXPECT_EQ(back.codebooks.values, file.codebooks.values);
  EXPECT_EQ(back.calibrated_on, file.calibrated_on);
  EXPECT_EQ(back.mse_per_iteration, file.mse_per_iteration);
}

TEST(CodebookJson, MalformedFilesAreOneLineErrors) {
  const auto write = [](const std::string& name, const std::string& text) {
    const std::string path = temp_path(name);
    std::ofstream(path) << text;
    return path;
  };
  const std::string book = "[-31,-27,-23,-19,-15,-11,-7,-3,3,7,11,15,19,23,27,31]";
  std::string one = "[";
  for (int c = 0; c < 16; ++c) one += (c ? "," : "") + book;
  one += "]";
  const std::pair<std::string, std::string> cases[] = {
      {temp_path("missing.json"), "cannot open"},
      {write("syntax.json", "{\"schema_version\": 1,"), "malformed JSON"},
      {write("array.json", "[1, 2]"), "not an object"},
      {write("version.json", "{\"schema_version\": 2, \"format\": \"bcq\", \"codebooks\": " + one + "}"), "schema_version 2"},
      // Versions that an int conversion would have read as 1.
      {write("version_fraction.json", "{\"schema_version\": 1.9, \"format\": \"bcq\", \"codebooks\": " + one + "}"), "schema_version 1.9"},
      {write("version_wraps.json", "{\"schema_version\": 4294967297, \"format\": \"bcq\", \"codebooks\": " + one + "}"), "schema_version 4294967297"},
      {write("version_string.json", "{\"schema_version\": \"1\", \"format\": \"bcq\", \"codebooks\": " + one + "}"), "schema_version \"1\""},
      {write("noformat.json", "{\"schema_version\": 1, \"codebooks\": " + one + "}"), "format"},
      {write("badformat.json", "{\"schema_version\": 1, \"format\": \"bcq:nc=99\", \"codebooks\": " + one + "}"), "nc=99"},
      {write("count.json", "{\"schema_version\": 1, \"format\": \"bcq:nc=8\", \"codebooks\": " + one + "}"), "needs 8"},
      {write("grid.json", "{\"schema_version\": 1, \"format\": \"bcq:nc=1\", \"codebooks\": [[-40,-27,-23,-19,-15,-11,-7,-3,3,7,11,15,19,23,27,31]]}"), "grid"},
      {write("type.json", "{\"schema_version\": 1, \"format\": \"bcq:nc=1\", \"codebooks\": [[\"a\"]]}"), ""},
  };
  for (const auto& [path, expected] : cases) {
    expect_error([&, path = path] { load_codebooks(path); }, {expected, path});
  }
}

}  // namespace
}  // namespace nibble

#include "nibble/workloads/codebook_json.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "nibble/models/error.h"

namespace nibble {
namespace {

// nlohmann's messages start with an id such as "[json.exception.parse_error.101] "; the rest
// (the problem, with line and column) is what a user needs.
std::string without_exception_id(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const size_t close = what.find("] ");
  return what.rfind("[json.exception.", 0) == 0 && close != std::string::npos ? what.substr(close + 2)
                                                                              : what;
}

}  // namespace

void save_codebooks(const std::string& path, const CodebookFile& file) {
  nlohmann::json books = nlohmann::json::array();
  for (int c = 0; c < file.codebooks.count; ++c) {
    books.push_back(std::vector<float>(file.codebooks.book(c), file.codebooks.book(c) + file.codebooks.entries));
  }
  const nlohmann::json j = {
      {"schema_version", kCodebookSchemaVersion},
      {"format", file.params.name()},
      {"codebooks", books},
      {"calibrated_on", file.calibrated_on},
      {"mse_per_iteration", file.mse_per_iteration},
      {"final_mse", file.mse_per_iteration.empty() ? 0.0 : file.mse_per_iteration.back()},
  };
  std::ofstream out(path);
  if (!out) throw Error(path + ": cannot open file for writing");
  out << j.dump(1) << "\n";
  out.close();
  if (!out) throw Error(path + ": write failed");
}

CodebookFile load_codebooks(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open file");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed JSON (" + without_exception_id(e) + ")");
  }
  try {
    if (!j.is_object()) throw Error("top level is not an object");
    // Compared as JSON, not after a conversion to int: 1.9 and 2^32 + 1 are not version 1.
    const nlohmann::json& version = j.at("schema_version");
    if (!version.is_number_integer() || version != kCodebookSchemaVersion) {
      throw Error("schema_version " + version.dump() + " is not supported (expected the integer " +
                  std::to_string(kCodebookSchemaVersion) + ")");
    }
    CodebookFile file;
    file.params = parse_bcq_params(j.at("format").get<std::string>());
    const auto& books = j.at("codebooks");
    if (!books.is_array()) throw Error("'codebooks' is not an array");
    file.codebooks.count = static_cast<int>(books.size());
    file.codebooks.entries = books.empty() ? 0 : static_cast<int>(books[0].size());
    for (size_t c = 0; c < books.size(); ++c) {
      const auto& book = books[c];
      if (!book.is_array() || static_cast<int>(book.size()) != file.codebooks.entries) {
        throw Error("codebooks differ in length");
      }
      for (size_t k = 0; k < book.size(); ++k) {
        if (!book[k].is_number()) {
          throw Error("codebook " + std::to_string(c) + " entry " + std::to_string(k) + " is " +
                      book[k].type_name() + ", not a number");
        }
        file.codebooks.values.push_back(book[k].get<float>());
      }
    }
    validate_codebooks(file.params, file.codebooks);
    file.calibrated_on = j.value("calibrated_on", "");
    file.mse_per_iteration = j.value("mse_per_iteration", std::vector<double>{});
    return file;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": " + without_exception_id(e));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace nibble

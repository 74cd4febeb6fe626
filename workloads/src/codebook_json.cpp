#include "nibble/workloads/codebook_json.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "nibble/models/error.h"

namespace nibble {

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
    throw Error(path + ": malformed JSON (" + std::string(e.what()) + ")");
  }
  try {
    if (!j.is_object()) throw Error("top level is not an object");
    const int version = j.at("schema_version").get<int>();
    if (version != kCodebookSchemaVersion) {
      throw Error("schema_version " + std::to_string(version) + " is not supported (expected " +
                  std::to_string(kCodebookSchemaVersion) + ")");
    }
    CodebookFile file;
    file.params = parse_bcq_params(j.at("format").get<std::string>());
    const auto& books = j.at("codebooks");
    if (!books.is_array()) throw Error("'codebooks' is not an array");
    file.codebooks.count = static_cast<int>(books.size());
    file.codebooks.entries = books.empty() ? 0 : static_cast<int>(books[0].size());
    for (const auto& book : books) {
      if (!book.is_array() || static_cast<int>(book.size()) != file.codebooks.entries) {
        throw Error("codebooks differ in length");
      }
      for (const auto& v : book) file.codebooks.values.push_back(v.get<float>());
    }
    validate_codebooks(file.params, file.codebooks);
    file.calibrated_on = j.value("calibrated_on", "");
    file.mse_per_iteration = j.value("mse_per_iteration", std::vector<double>{});
    return file;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": " + e.what());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace nibble

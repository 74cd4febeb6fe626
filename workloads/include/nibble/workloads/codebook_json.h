#pragma once
// BCQ codebooks on disk, as JSON:
//   {"schema_version": 1, "format": "bcq:nc=8", "codebooks": [[-31, ..., 31], ...],
//    "calibrated_on": "...", "mse_per_iteration": [...], "final_mse": 0.53}
// "format" carries every parameter; "codebooks" holds N_c sorted lists of 2^b entries.
#include <string>
#include <vector>

#include "nibble/models/bcq.h"

namespace nibble {

inline constexpr int kCodebookSchemaVersion = 1;

struct CodebookFile {
  BcqParams params;
  Codebooks codebooks;
  std::string calibrated_on;
  std::vector<double> mse_per_iteration;
};

void save_codebooks(const std::string& path, const CodebookFile& file);
// Throws nibble::Error naming the file and the problem: unreadable, malformed JSON, another
// schema version, missing or mistyped fields, codebooks that do not fit the format.
CodebookFile load_codebooks(const std::string& path);

}  // namespace nibble

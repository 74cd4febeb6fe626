#pragma once
// Where a sweep's accuracy figures come from. Accuracy depends on the format and the tensor
// source only, never on hardware (DESIGN.md, "Accuracy"), so a sweep evaluates each distinct
// (format, source) once, stores it in its own table and joins it to the points.
//
// A source is described by a JSON object (the spec's `accuracy:` map), which is also its key:
//   {source: synthetic, distributions: [llm-act, llm-weight], rows: 256, cols: 4096, seed: 1}
//       seeded synthetic tensors (workloads/synthetic.h), the figures of `nibble eval`
//   {source: npy, tensors: [x.npy, w.npy]}
//       2-D float tensors, paths relative to the spec's folder
// A format's accuracy on a source is the mean QSNR (dB) over the source's tensors. Real-model
// sources (perplexity) plug in as further implementations.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace nibble {

struct AccuracyResult {
  double qsnr_db = 0;
  nlohmann::json detail;  // per tensor: {"<tensor>": qsnr_db, ...}
};

class AccuracySource {
 public:
  virtual ~AccuracySource() = default;
  // Must be safe to call from several threads at once.
  virtual AccuracyResult evaluate(const std::string& format) const = 0;
};

// Checks a description and returns it with every default filled in (the canonical key).
// Throws nibble::Error naming the bad key or value.
nlohmann::json accuracy_source_description(const nlohmann::json& raw);

// The source for a canonical description; relative paths are read from base_dir.
std::unique_ptr<AccuracySource> make_accuracy_source(const nlohmann::json& description,
                                                     const std::string& base_dir);

}  // namespace nibble

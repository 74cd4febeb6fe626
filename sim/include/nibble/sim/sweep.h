#pragma once
// Design-space sweeps (DESIGN.md, "Sweeps" and "Scale-out"): a spec (YAML, `nibble_sweep: 1`)
// is a base design plus axes over hardware keys, workload keys and formats; every point is the
// resolved design in canonical JSON, identified by the SHA-256 of that JSON and nibble's
// version; results go to DIR/results.sqlite (sweep_store.h).
//
// A design is one JSON object:
//   {"hardware": {...nested by dotted key, e.g. {"array": {"rows": 32}}...},
//    "workload": {"model": ..., "phase": ..., ...},
//    "formats":  {"w": "nvfp4", "a": "nvfp4", "kv": "mxfp8_e4m3"}}
// A spec may leave formats.kv out (or empty): the KV cache then takes the activation format.
// Format names are canonicalized through models' registry; hardware and workload keys through
// the DesignSpace, so two spellings of one design share an id.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nibble {

// One figure a design point reports (its name carries its unit, e.g. latency_ms).
// `energy_part` marks the terms of the energy-per-token breakdown (they add up to
// energy_per_token_uj); the report stacks them.
struct MetricInfo {
  std::string name;
  bool energy_part = false;
};

struct Evaluation {
  std::vector<double> metrics;  // in DesignSpace::metrics() order
  std::string bound;            // what limits the design: "compute" or "memory"
  // The full result. A "roofline" member {peak_gops, bandwidth_gbs, operators: [{name,
  // intensity (ops/byte), gops}]} feeds the report's roofline plot.
  nlohmann::json detail;
};

// What a sweep needs from the design-point model. The one used by `nibble sweep` wraps
// evaluate_point (design_space.h); tests drive the engine with a deterministic fake.
// Implementations must be safe to call from several threads at once (all methods are const).
class DesignSpace {
 public:
  virtual ~DesignSpace() = default;
  // The hardware file as JSON nested by dotted key; Errors name the file and line.
  virtual nlohmann::json load_hardware(const std::string& path) const = 0;
  virtual nlohmann::json default_workload() const = 0;
  // Set one dotted key ("array.rows"; "phase" for the workload) to a value, leaving the JSON
  // canonical. Throw nibble::Error naming the key and its valid range or values.
  virtual void set_hardware(nlohmann::json& hardware, const std::string& key,
                            const nlohmann::json& value) const = 0;
  virtual void set_workload(nlohmann::json& workload, const std::string& key,
                            const nlohmann::json& value) const = 0;
  virtual const std::vector<MetricInfo>& metrics() const = 0;
  // Throws nibble::Error for a design that cannot run; the sweep records it as failed.
  virtual Evaluation evaluate(const nlohmann::json& design) const = 0;
};

inline constexpr const char* kFormatRoles[] = {"w", "a", "kv"};

// The accuracy metrics a sweep with an `accuracy:` entry adds (joined from the accuracy table):
// accuracy_<role>_db is the QSNR of the role's format on the spec's tensor source, and
// accuracy_db = min(accuracy_w_db, accuracy_a_db), the weaker GEMM operand.
inline constexpr const char* kAccuracyMetrics[] = {"accuracy_w_db", "accuracy_a_db",
                                                   "accuracy_kv_db", "accuracy_db"};

struct Axis {
  std::string key;                    // "array.rows", "workload.phase", "formats.w" or "formats"
  std::vector<nlohmann::json> values; // as written (canonicalized when applied)
};

struct SweepSpec {
  std::string path;
  std::string name;
  nlohmann::json base;      // the design every point starts from
  nlohmann::json accuracy;  // the tensor source ({} when the spec asks for no accuracy)
  std::vector<Axis> axes;   // in file order
  // The cartesian product runs over dimensions (first slowest); a dimension is one axis or a
  // zip group of axes that advance together.
  std::vector<std::vector<size_t>> dimensions;
  std::vector<nlohmann::json> excludes;  // {key: canonical value, ...}: all must match
  std::vector<std::string> minimize, maximize;

  // The keys that get their own results column (hardware and workload axes; formats always
  // have theirs).
  std::vector<std::string> axis_columns() const;
  // Everything that makes two runs the same sweep (stored with the results; resume and merge
  // refuse a database written for another spec).
  nlohmann::json identity() const;
};

// Reads and checks a spec; every problem is a one-line nibble::Error "FILE:LINE: ..." raised
// before any point runs: unknown or duplicate keys, a wrong version, empty axes, zip groups of
// unequal length or naming non-axes, values outside the schema's range, unknown formats,
// objectives that are not metrics, more than kMaxSweepPoints points.
SweepSpec load_sweep_spec(const std::string& path, const DesignSpace& space);
inline constexpr std::int64_t kMaxSweepPoints = 10'000'000;

struct SweepPoint {
  std::int64_t index = 0;  // position in the spec's enumeration (before shards and limits)
  std::string id;          // point_id(design)
  nlohmann::json design;
};

// Every point of the spec in enumeration order, exclusions removed.
std::vector<SweepPoint> expand_points(const SweepSpec& spec, const DesignSpace& space);

// Sorted keys, no whitespace: the same design always serializes to the same bytes.
std::string canonical_json(const nlohmann::json& value);
// Hex SHA-256 of canonical_json(design) + "\n" + nibble_version().
std::string point_id(const nlohmann::json& design);
// The value at a spec key in a design ("array.rows" -> design.hardware.array.rows); null if absent.
nlohmann::json design_value(const nlohmann::json& design, const std::string& key);

// Shard i of n takes the points whose id's first 64 bits, read as a number, are i modulo n: a
// deterministic split that needs no coordination and keeps shards equal on average.
bool in_shard(const std::string& id, int shard, int shards);

const char* nibble_version();
const char* nibble_git_commit();  // "unknown" outside a git checkout; "-dirty" with local edits

}  // namespace nibble

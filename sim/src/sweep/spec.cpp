// Reads a sweep spec. Every check runs here, before any point is evaluated, and every failure
// names the file and the line of the offending node.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "nibble/sim/accuracy_source.h"
#include "design_keys.h"
#include "nibble/models/error.h"
#include "nibble/workloads/yaml_file.h"
#include "nibble/sim/sweep.h"

namespace nibble {
namespace {

constexpr int kSpecVersion = 1;

// A YAML map's entries in file order (axes enumerate in the order they are written).
struct Entries {
  std::vector<std::pair<std::string, YAML::Node>> items;
  size_t count(const std::string& key) const {
    for (const auto& item : items) {
      if (item.first == key) return 1;
    }
    return 0;
  }
  const YAML::Node& at(const std::string& key) const {
    for (const auto& item : items) {
      if (item.first == key) return item.second;
    }
    throw std::out_of_range(key);
  }
  auto begin() const { return items.begin(); }
  auto end() const { return items.end(); }
};

class SpecReader {
 public:
  SpecReader(const std::string& path, const DesignSpace& space) : path_(path), space_(space) {}

  SweepSpec read() {
    const YAML::Node root = load_yaml_file(path_);
    if (!root.IsMap()) fail(root, "a sweep spec must be a map with nibble_sweep: 1 first");
    const auto top = entries(root, "the spec",
                             {"nibble_sweep", "name", "hardware", "workload", "formats", "accuracy",
                              "axes", "zip", "exclude", "objectives"});
    const YAML::Node version = required(root, top, "nibble_sweep");
    if (scalar(version) != nlohmann::json(kSpecVersion)) {
      fail(version, "nibble_sweep must be " + std::to_string(kSpecVersion) + " (the spec format version)");
    }
    spec_.path = path_;
    spec_.name = string_value(required(root, top, "name"), "name");
    read_base(root, top);
    if (top.count("accuracy")) read_accuracy(top.at("accuracy"));
    if (top.count("axes")) read_axes(top.at("axes"));
    read_dimensions(top.count("zip") ? &top.at("zip") : nullptr);
    if (top.count("exclude")) read_excludes(top.at("exclude"));
    if (top.count("objectives")) read_objectives(top.at("objectives"));
    check_point_count(root);
    return spec_;
  }

 private:
  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const {
    throw Error(path_ + ":" + std::to_string(node.Mark().line + 1) + ": " + what);
  }

  // The entries of a map by key, refusing keys outside `known` and keys given twice (YAML
  // parsers keep the first silently; a spec that says one thing twice is a mistake).
  Entries entries(const YAML::Node& map, const std::string& where,
                  const std::set<std::string>& known = {}) const {
    if (!map.IsMap()) fail(map, where + " must be a map");
    Entries out;
    for (const auto& item : map) {
      if (!item.first.IsScalar()) fail(item.first, "a key in " + where + " must be a name");
      const std::string key = item.first.Scalar();
      if (!known.empty() && !known.count(key)) {
        std::string valid;
        for (const auto& k : known) valid += (valid.empty() ? "" : ", ") + k;
        fail(item.first, "unknown key '" + key + "' in " + where + " (valid: " + valid + ")");
      }
      if (out.count(key)) fail(item.first, "duplicate key '" + key + "' in " + where);
      out.items.emplace_back(key, item.second);
    }
    return out;
  }

  YAML::Node required(const YAML::Node& map, const Entries& items,
                      const std::string& key) const {
    if (!items.count(key)) fail(map, "missing key '" + key + "'");
    return items.at(key);
  }

  // A YAML scalar as JSON: quoted scalars stay strings; plain ones become integers, reals or
  // booleans when they read as one.
  nlohmann::json scalar(const YAML::Node& node) const {
    if (!node.IsScalar()) fail(node, "expected a single value");
    const std::string text = node.Scalar();
    if (node.Tag() == "!") return text;
    try {
      size_t used = 0;
      const long long i = std::stoll(text, &used);
      if (used == text.size()) return i;
      const double d = std::stod(text, &used);
      if (used == text.size() && std::isfinite(d)) return d;
    } catch (const std::exception&) {
    }
    if (text == "true" || text == "false") return text == "true";
    return text;
  }

  std::string string_value(const YAML::Node& node, const std::string& what) const {
    const nlohmann::json v = scalar(node);
    if (!v.is_string() || v.get<std::string>().empty()) fail(node, what + " must be a non-empty string");
    return v.get<std::string>();
  }

  // Any YAML value as JSON (maps with checked keys), for values the DesignSpace interprets.
  nlohmann::json to_json(const YAML::Node& node, const std::string& where) const {
    if (node.IsScalar()) return scalar(node);
    if (node.IsSequence()) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& item : node) list.push_back(to_json(item, where));
      return list;
    }
    if (node.IsMap()) {
      nlohmann::json map = nlohmann::json::object();
      for (const auto& [key, value] : entries(node, where)) map[key] = to_json(value, where + "." + key);
      return map;
    }
    fail(node, where + " has no value");
  }

  // Applies one key to a design, pinning any schema error to the node's line.
  void apply(nlohmann::json& design, const std::string& key, const nlohmann::json& value,
             const YAML::Node& node) const {
    try {
      apply_design_key(space_, design, key, value);
    } catch (const Error& e) {
      fail(node, e.what());
    }
  }

  void read_base(const YAML::Node& root, const Entries& top) {
    const YAML::Node hardware = required(root, top, "hardware");
    std::filesystem::path file = string_value(hardware, "hardware");
    if (file.is_relative()) file = std::filesystem::path(path_).parent_path() / file;
    spec_.base = nlohmann::json::object();
    try {
      spec_.base["hardware"] = space_.load_hardware(file.string());
    } catch (const Error& e) {
      fail(hardware, std::string("hardware: ") + e.what());
    }
    spec_.base["workload"] = space_.default_workload();
    if (top.count("workload")) {
      for (const auto& [key, value] : entries(top.at("workload"), "workload")) {
        apply(spec_.base, "workload." + key, scalar(value), value);
      }
    }
    const YAML::Node formats = required(root, top, "formats");
    const auto roles = entries(formats, "formats", {std::begin(kFormatRoles), std::end(kFormatRoles)});
    spec_.base["formats"] = nlohmann::json::object();
    for (const char* role : kFormatRoles) {
      if (std::string(role) == "kv" && !roles.count(role)) {
        spec_.base["formats"]["kv"] = "";  // the activation format (resolve_formats)
        continue;
      }
      apply(spec_.base, std::string("formats.") + role, scalar(required(formats, roles, role)),
            roles.count(role) ? roles.at(role) : formats);
    }
  }

  void read_accuracy(const YAML::Node& node) {
    try {
      spec_.accuracy = accuracy_source_description(to_json(node, "accuracy"));
    } catch (const Error& e) {
      fail(node, std::string("accuracy: ") + e.what());
    }
  }

  // {from, to, factor} (geometric) or {from, to, step} (arithmetic), both ends included.
  std::vector<nlohmann::json> range(const YAML::Node& node, const std::string& key) const {
    const auto items = entries(node, "axis " + key, {"from", "to", "factor", "step"});
    const auto number = [&](const char* name) {
      const nlohmann::json v = scalar(required(node, items, name));
      if (!v.is_number()) fail(items.at(name), "axis " + key + ": '" + name + "' must be a number");
      return v;
    };
    const nlohmann::json from = number("from"), to = number("to");
    if (items.count("factor") == items.count("step")) {
      fail(node, "axis " + key + ": give exactly one of 'factor' and 'step'");
    }
    const bool geometric = items.count("factor");
    const nlohmann::json by = number(geometric ? "factor" : "step");
    const double a = from.get<double>(), b = to.get<double>(), d = by.get<double>();
    if (geometric ? !(d > 1) || !(a > 0) : !(d > 0)) {
      fail(node, "axis " + key + (geometric ? ": needs factor > 1 and from > 0" : ": needs step > 0"));
    }
    if (b < a) fail(node, "axis " + key + ": 'to' is below 'from'");
    const bool integer = from.is_number_integer() && by.is_number_integer();
    std::vector<nlohmann::json> values;
    // i-th value computed from `from` directly, so rounding never accumulates.
    for (std::int64_t i = 0;; ++i) {
      const double v = geometric ? a * std::pow(d, static_cast<double>(i)) : a + d * static_cast<double>(i);
      if (v > b * (1 + 1e-12)) break;
      if (static_cast<std::int64_t>(values.size()) >= kMaxSweepPoints) {
        fail(node, "axis " + key + " has more than " + std::to_string(kMaxSweepPoints) + " values");
      }
      if (integer) values.emplace_back(static_cast<std::int64_t>(std::llround(v)));
      else values.emplace_back(v);
    }
    return values;
  }

  void read_axes(const YAML::Node& node) {
    for (const auto& [key, values] : entries(node, "axes")) {
      Axis axis{key, {}};
      std::vector<YAML::Node> value_nodes;
      if (values.IsSequence()) {
        for (const auto& v : values) {
          axis.values.push_back(key == "formats" ? to_json(v, "formats") : scalar(v));
          value_nodes.push_back(v);
        }
      } else if (values.IsMap()) {
        axis.values = range(values, key);
        value_nodes.assign(axis.values.size(), values);
      } else {
        fail(values, "axis " + key + " must be a list of values or {from, to, factor|step}");
      }
      if (axis.values.empty()) fail(values, "axis " + key + " is empty");
      // Every value is checked against the schema now (a point would fail the same way later).
      for (size_t i = 0; i < axis.values.size(); ++i) {
        nlohmann::json scratch = spec_.base;
        apply(scratch, key, axis.values[i], value_nodes[i]);
      }
      for (const Axis& other : spec_.axes) {
        const bool overlap = (other.key == "formats" && key.rfind("formats.", 0) == 0) ||
                             (key == "formats" && other.key.rfind("formats.", 0) == 0);
        if (overlap) fail(values, "axis " + key + " overlaps axis " + other.key + " (give the formats once)");
      }
      spec_.axes.push_back(std::move(axis));
    }
  }

  size_t axis_index(const YAML::Node& node) const {
    const std::string key = string_value(node, "a zip entry");
    for (size_t i = 0; i < spec_.axes.size(); ++i) {
      if (spec_.axes[i].key == key) return i;
    }
    fail(node, "zip names '" + key + "', which is not an axis");
  }

  void read_dimensions(const YAML::Node* zip) {
    std::vector<int> group_of(spec_.axes.size(), -1);
    std::vector<std::vector<size_t>> groups;
    if (zip) {
      if (!zip->IsSequence()) fail(*zip, "zip must be a list of lists of axes");
      for (const auto& group : *zip) {
        if (!group.IsSequence() || group.size() < 2) fail(group, "a zip group must list at least two axes");
        std::vector<size_t> members;
        for (const auto& entry : group) {
          const size_t i = axis_index(entry);
          if (group_of[i] >= 0) fail(entry, "axis " + spec_.axes[i].key + " is in two zip groups (or twice in one)");
          group_of[i] = static_cast<int>(groups.size());
          if (spec_.axes[i].values.size() != spec_.axes[members.empty() ? i : members[0]].values.size()) {
            fail(entry, "zip group of unequal lengths: " + spec_.axes[members[0]].key + " has " +
                            std::to_string(spec_.axes[members[0]].values.size()) + " values, " +
                            spec_.axes[i].key + " has " + std::to_string(spec_.axes[i].values.size()));
          }
          members.push_back(i);
        }
        groups.push_back(members);
      }
    }
    std::vector<bool> emitted(groups.size(), false);
    for (size_t i = 0; i < spec_.axes.size(); ++i) {
      if (group_of[i] < 0) {
        spec_.dimensions.push_back({i});
      } else if (!emitted[static_cast<size_t>(group_of[i])]) {
        emitted[static_cast<size_t>(group_of[i])] = true;
        spec_.dimensions.push_back(groups[static_cast<size_t>(group_of[i])]);
      }
    }
  }

  void read_excludes(const YAML::Node& node) {
    if (!node.IsSequence()) fail(node, "exclude must be a list of {key: value} maps");
    for (const auto& rule : node) {
      nlohmann::json canonical = nlohmann::json::object();
      for (const auto& [key, value] : entries(rule, "an exclude entry")) {
        if (key == "formats") fail(value, "exclude: name a role (formats.w, formats.a, formats.kv)");
        nlohmann::json scratch = spec_.base;
        const nlohmann::json v = scalar(value);
        apply(scratch, key, v, value);
        canonical[key] = design_value(scratch, key);
      }
      if (canonical.empty()) fail(rule, "an exclude entry is empty");
      spec_.excludes.push_back(std::move(canonical));
    }
  }

  void read_objectives(const YAML::Node& node) {
    const auto items = entries(node, "objectives", {"minimize", "maximize"});
    std::set<std::string> known, seen;
    for (const MetricInfo& m : space_.metrics()) known.insert(m.name);
    if (!spec_.accuracy.empty()) known.insert(std::begin(kAccuracyMetrics), std::end(kAccuracyMetrics));
    for (const auto& [sense, list] : items) {
      if (!list.IsSequence()) fail(list, "objectives." + sense + " must be a list of metrics");
      for (const auto& entry : list) {
        const std::string name = string_value(entry, "an objective");
        if (!known.count(name)) {
          std::string valid;
          for (const auto& k : known) valid += (valid.empty() ? "" : ", ") + k;
          fail(entry, "objective '" + name + "' is not a metric (valid: " + valid + ")");
        }
        if (!seen.insert(name).second) fail(entry, "objective '" + name + "' is given twice");
        (sense == "minimize" ? spec_.minimize : spec_.maximize).push_back(name);
      }
    }
    if (seen.empty()) fail(node, "objectives names no metric");
  }

  void check_point_count(const YAML::Node& root) const {
    std::int64_t count = 1;
    for (const auto& dimension : spec_.dimensions) {
      const auto n = static_cast<std::int64_t>(spec_.axes[dimension[0]].values.size());
      if (count > kMaxSweepPoints / n) {
        fail(root, "the axes make more than " + std::to_string(kMaxSweepPoints) + " points");
      }
      count *= n;
    }
  }

  const std::string path_;
  const DesignSpace& space_;
  SweepSpec spec_;
};

}  // namespace

SweepSpec load_sweep_spec(const std::string& path, const DesignSpace& space) {
  return SpecReader(path, space).read();
}

std::vector<std::string> SweepSpec::axis_columns() const {
  std::vector<std::string> columns;
  for (const Axis& axis : axes) {
    if (axis.key.rfind("formats", 0) != 0) columns.push_back(axis.key);
  }
  return columns;
}

nlohmann::json SweepSpec::identity() const {
  nlohmann::json axes_json = nlohmann::json::array();
  for (const Axis& axis : axes) axes_json.push_back({{"key", axis.key}, {"values", axis.values}});
  return {{"name", name},           {"base", base},         {"accuracy", accuracy},
          {"axes", axes_json},      {"dimensions", dimensions}, {"exclude", excludes},
          {"minimize", minimize},   {"maximize", maximize}};
}

}  // namespace nibble

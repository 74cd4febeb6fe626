#include "nibble/workloads/workload.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "nibble/models/error.h"

namespace nibble {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kMaxTokens = std::int64_t{1} << 24;  // per sequence
constexpr std::int64_t kMaxBatch = std::int64_t{1} << 16;

std::int64_t& count_field(WorkloadSpec& spec, const std::string& key) {
  if (key == "batch") return spec.batch;
  if (key == "prompt") return spec.prompt;
  if (key == "context") return spec.context;
  return spec.generated;
}

}  // namespace

const std::vector<std::string>& workload_keys() {
  static const std::vector<std::string> keys = {"model", "phase", "batch", "prompt", "context", "generated"};
  return keys;
}

void set_workload_key(WorkloadSpec& spec, const std::string& key, const json& value) {
  if (key == "model" || key == "phase") {
    if (!value.is_string()) throw Error("workload key '" + key + "' must be a string, not " + value.dump());
    const std::string text = value.get<std::string>();
    if (key == "phase" && text != "prefill" && text != "decode" && text != "request") {
      throw Error("workload phase '" + text + "' is not one of prefill, decode, request");
    }
    (key == "model" ? spec.model : spec.phase) = text;
    return;
  }
  if (std::find(workload_keys().begin(), workload_keys().end(), key) == workload_keys().end()) {
    throw Error("unknown workload key '" + key + "' (valid: model, phase, batch, prompt, context, generated)");
  }
  const std::int64_t hi = key == "batch" ? kMaxBatch : kMaxTokens;
  const bool integral = value.is_number_integer() ||
                        (value.is_number_float() && value.get<double>() == std::floor(value.get<double>()));
  if (!integral || value.get<double>() < 1 || value.get<double>() > static_cast<double>(hi)) {
    throw Error("workload key '" + key + "': " + value.dump() + " is not an integer in [1, " + std::to_string(hi) + "]");
  }
  count_field(spec, key) = static_cast<std::int64_t>(value.get<double>());
}

json workload_to_json(const WorkloadSpec& spec) {
  return {{"model", spec.model}, {"phase", spec.phase}, {"batch", spec.batch},
          {"prompt", spec.prompt}, {"context", spec.context}, {"generated", spec.generated}};
}

WorkloadSpec workload_from_json(const json& in) {
  if (!in.is_object()) throw Error("workload must be a map of " "model, phase, batch, prompt, context, generated");
  WorkloadSpec spec;
  for (const auto& [key, value] : in.items()) set_workload_key(spec, key, value);
  return spec;
}

ExpandedWorkload expand_workload(const WorkloadSpec& spec) { return expand_workload(spec, load_model(spec.model)); }

ExpandedWorkload expand_workload(const WorkloadSpec& spec, const ModelConfig& model) {
  ExpandedWorkload w{model, spec, {}, 0, 0};
  const auto decode_step = [&](std::int64_t context, double weight) {
    w.steps.push_back({"decode", context, weight, step_operators(model, spec.batch, 1, context, 1)});
  };
  if (spec.phase == "prefill" || spec.phase == "request") {
    w.steps.push_back({"prefill", spec.prompt, 1, step_operators(model, spec.batch, spec.prompt, spec.prompt, 1)});
    w.prefill_tokens = spec.batch * spec.prompt;
  }
  if (spec.phase == "decode") {
    decode_step(spec.context, 1);
    w.decode_tokens = spec.batch;
  } else if (spec.phase == "request" && spec.generated > 1) {
    const std::int64_t steps = spec.generated - 1;  // the prefill yields the first token
    w.decode_tokens = spec.batch * steps;
    if (steps <= kExactDecodeSteps) {
      for (std::int64_t i = 1; i <= steps; ++i) decode_step(spec.prompt + i, 1);
    } else {
      // Trapezoid rule over contexts prompt + 1 .. prompt + steps at kExactDecodeSteps samples:
      // exact for costs linear in the context, which the attention operators are.
      const double span = static_cast<double>(steps - 1), intervals = kExactDecodeSteps - 1;
      for (std::int64_t j = 0; j < kExactDecodeSteps; ++j) {
        const double weight = span / intervals * (j == 0 || j == kExactDecodeSteps - 1 ? 0.5 : 1.0);
        const auto at = static_cast<std::int64_t>(std::llround(1 + span * static_cast<double>(j) / intervals));
        decode_step(spec.prompt + at, weight);
      }
      // The trapezoid weights add up to steps - 1; the missing step goes to the two ends.
      w.steps[w.steps.size() - kExactDecodeSteps].weight += 0.5;
      w.steps.back().weight += 0.5;
    }
  }
  if (spec.phase != "prefill" && spec.phase != "decode" && spec.phase != "request") {
    throw Error("workload phase '" + spec.phase + "' is not one of prefill, decode, request");
  }
  return w;
}

}  // namespace nibble

#include "format_options.h"

#include <charconv>

#include "nibble/models/error.h"

namespace nibble {

FormatOptions::FormatOptions(std::string_view name) {
  size_t colon = name.find(':');
  base_ = std::string(name.substr(0, colon));
  while (colon != std::string_view::npos) {
    const size_t next = name.find(':', colon + 1);
    const std::string_view item = name.substr(colon + 1, next == std::string_view::npos
                                                             ? std::string_view::npos
                                                             : next - colon - 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      throw Error("format '" + std::string(name) + "': option '" + std::string(item) +
                  "' is not of the form key=value");
    }
    const std::string key(item.substr(0, eq));
    if (given_.count(key)) {
      throw Error("format '" + std::string(name) + "': option '" + key + "' given twice");
    }
    given_[key] = std::string(item.substr(eq + 1));
    colon = next;
  }
}

std::int64_t FormatOptions::get_int(const std::string& key, std::int64_t fallback,
                                    std::int64_t lo, std::int64_t hi) {
  known_.insert(key);
  const auto it = given_.find(key);
  if (it == given_.end()) return fallback;
  std::int64_t v = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw Error("format '" + base_ + "': option " + key + "=" + text + " is not an integer");
  }
  if (v < lo || v > hi) {
    throw Error("format '" + base_ + "': option " + key + "=" + text + " is outside [" +
                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  if (v != fallback) non_default_[key] = text;
  return v;
}

double FormatOptions::get_real(const std::string& key, double fallback, double lo, double hi) {
  known_.insert(key);
  const auto it = given_.find(key);
  if (it == given_.end()) return fallback;
  double v = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !(v >= lo && v <= hi)) {
    throw Error("format '" + base_ + "': option " + key + "=" + text + " is not a number in [" +
                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  if (v != fallback) non_default_[key] = text;
  return v;
}

std::string FormatOptions::get_choice(const std::string& key,
                                      std::initializer_list<const char*> choices) {
  known_.insert(key);
  const auto it = given_.find(key);
  const std::string fallback = *choices.begin();
  if (it == given_.end()) return fallback;
  std::string valid;
  for (const char* c : choices) {
    if (it->second == c) {
      if (it->second != fallback) non_default_[key] = it->second;
      return it->second;
    }
    valid += valid.empty() ? c : std::string(", ") + c;
  }
  throw Error("format '" + base_ + "': option " + key + "=" + it->second + " is not one of " +
              valid);
}

Rounding FormatOptions::get_rounding() {
  return get_choice("round", {"even", "away"}) == "even" ? Rounding::kNearestEven
                                                          : Rounding::kNearestAway;
}

void FormatOptions::finish() {
  for (const auto& [key, value] : given_) {
    if (known_.count(key)) continue;
    std::string valid;
    for (const auto& k : known_) valid += valid.empty() ? k : ", " + k;
    throw Error("format '" + base_ + "': unknown option '" + key + "' (valid: " + valid + ")");
  }
}

std::string FormatOptions::canonical() const {
  std::string name = base_;
  for (const auto& [key, value] : non_default_) name += ":" + key + "=" + value;
  return name;
}

bool consume_number(std::string_view& text, std::int64_t& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return true;
}

bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

}  // namespace nibble

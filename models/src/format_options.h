#pragma once
// Parses the ":key=value" options of a format name and rejects anything unknown, naming the
// format, the key and the accepted keys.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/models/element.h"

namespace nibble {

class FormatOptions {
 public:
  // `name` is the whole format string, e.g. "mxfp4:scale=rceil:block=16".
  explicit FormatOptions(std::string_view name);

  const std::string& base() const { return base_; }
  std::int64_t get_int(const std::string& key, std::int64_t fallback, std::int64_t lo,
                       std::int64_t hi);
  double get_real(const std::string& key, double fallback, double lo, double hi);
  std::string get_choice(const std::string& key, std::initializer_list<const char*> choices);
  Rounding get_rounding();  // "round=even|away", default even
  // Throws if an option was given that no get_* asked for.
  void finish();
  // The canonical name: base plus the options that differ from their defaults, sorted by key.
  std::string canonical() const;

 private:
  std::string base_;
  std::map<std::string, std::string> given_;
  std::map<std::string, std::string> non_default_;
  std::set<std::string> known_;
};

// Helpers for formats whose name embeds numbers, e.g. "int4_g128": parses a decimal number at
// the front of `text`, advancing it; returns false when there is none.
bool consume_number(std::string_view& text, std::int64_t& value);
bool consume_prefix(std::string_view& text, std::string_view prefix);

}  // namespace nibble

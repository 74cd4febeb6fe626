#include "nibble/models/kv_format.h"

#include <algorithm>

#include "format_options.h"
#include "nibble/models/element.h"
#include "nibble/models/registry.h"

namespace nibble {
namespace {

Matrix transpose(MatrixView x) {
  Matrix t(x.cols, x.rows);
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t c = 0; c < x.cols; ++c) t.data[static_cast<size_t>(c * x.rows + r)] = x.row(r)[c];
  }
  return t;
}

// Every token's key and value vector in one registry format, along its channels.
class PerTokenKv final : public KvFormat {
 public:
  explicit PerTokenKv(std::shared_ptr<const BlockFormat> format) : format_(std::move(format)) {}
  std::string name() const override { return format_->info().name; }
  Matrix quantize_keys(MatrixView keys) const override { return fake_quantize(format_.get(), keys); }
  Matrix quantize_values(MatrixView values) const override { return fake_quantize(format_.get(), values); }
  double bits_per_element() const override { return format_->info().bits_per_element; }

 private:
  std::shared_ptr<const BlockFormat> format_;
};

class KiviKv final : public KvFormat {
 public:
  explicit KiviKv(FormatOptions& options) {
    const auto bits = options.get_int("bits", 2, 2, 8);
    group_ = options.get_int("group", 32, 1, 1024);
    residual_ = options.get_int("residual", 128, 0, std::int64_t{1} << 30);
    name_ = options.canonical();
    groups_ = make_format("int" + std::to_string(bits) + "_g" + std::to_string(group_) + "_asym");
  }
  std::string name() const override { return name_; }
  // Per channel: a channel's values over the tokens are a row of K^T, cut into token groups.
  Matrix quantize_keys(MatrixView keys) const override {
    const Matrix t = transpose(keys);
    return transpose(fake_quantize(groups_.get(), t));
  }
  Matrix quantize_values(MatrixView values) const override { return fake_quantize(groups_.get(), values); }
  std::int64_t quantized_tokens(std::int64_t cached) const override {
    return std::max<std::int64_t>(0, cached - residual_) / group_ * group_;
  }
  Matrix full_precision(MatrixView x) const override {
    Matrix m(x.rows, x.cols);
    for (size_t i = 0; i < m.data.size(); ++i) {
      m.data[i] = static_cast<float>(decode(spec::kFP16, encode(spec::kFP16, x.data[i])));
    }
    return m;
  }
  double bits_per_element() const override { return groups_->info().bits_per_element; }

 private:
  std::string name_;
  std::int64_t group_ = 32, residual_ = 128;
  std::shared_ptr<const BlockFormat> groups_;
};

}  // namespace

Matrix KvFormat::full_precision(MatrixView x) const { return fake_quantize(nullptr, x); }

std::shared_ptr<const KvFormat> make_kv_format(std::string_view name) {
  FormatOptions options(name);
  if (options.base() == "kivi") {
    auto format = std::make_shared<KiviKv>(options);
    options.finish();
    return format;
  }
  return std::make_shared<PerTokenKv>(make_format(name));
}

}  // namespace nibble

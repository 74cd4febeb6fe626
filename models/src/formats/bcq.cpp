// BCQ block format: see nibble/models/bcq.h for the format and its rules.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "../bcq_encoder.h"
#include "fast_paths.h"
#include "family.h"
#include "nibble/models/bits.h"

namespace nibble {

int BcqParams::selector_bits() const { return codebooks == 1 ? 0 : std::bit_width(static_cast<unsigned>(codebooks - 1)); }

std::string BcqParams::name() const {
  const BcqParams d;
  std::string n = "bcq";
  const auto add = [&](const char* key, int value, int fallback) {
    if (value != fallback) n += std::string(":") + key + "=" + std::to_string(value);
  };
  add("b", index_bits, d.index_bits);
  add("e", entry_bits, d.entry_bits);
  if (float_entries) n += ":entries=float";
  add("la", array, d.array);
  add("lb", block, d.block);
  add("nc", codebooks, d.codebooks);
  if (scale != d.scale) n += ":scale=" + scale;
  return n;
}

namespace {

BcqParams params_from_options(FormatOptions& options) {
  BcqParams p;
  p.block = static_cast<int>(options.get_int("lb", 8, 2, 32));
  p.array = static_cast<int>(options.get_int("la", 64, 2, 4096));
  p.codebooks = static_cast<int>(options.get_int("nc", 16, 1, 64));
  p.index_bits = static_cast<int>(options.get_int("b", 4, 1, 4));
  p.entry_bits = static_cast<int>(options.get_int("e", 6, 2, 8));
  p.float_entries = options.get_choice("entries", {"int", "float"}) == "float";
  p.scale = options.get_choice("scale", {"ue4m3", "e8m0", "bf16", "fp32"});
  if (p.array % p.block) {
    throw Error("format '" + options.base() + "': la=" + std::to_string(p.array) +
                " is not a multiple of lb=" + std::to_string(p.block));
  }
  return p;
}

}  // namespace

BcqParams parse_bcq_params(const std::string& name) {
  FormatOptions options(name);
  if (options.base() != "bcq") throw Error("'" + name + "' is not a bcq format name");
  BcqParams p = params_from_options(options);
  options.finish();
  return p;
}

Codebooks default_codebooks(const BcqParams& p) {
  Codebooks books{p.codebooks, p.entries(), {}};
  const int m = p.grid_max();
  for (int c = 0; c < p.codebooks; ++c) {
    const double range = static_cast<double>(m) * (c + 1) / p.codebooks;
    for (int k = 0; k < p.entries(); ++k) {
      const double v = p.entries() == 1 ? 0.0 : -range + 2 * range * k / (p.entries() - 1);
      books.values.push_back(p.float_entries ? static_cast<float>(v)
                                             : static_cast<float>(std::nearbyint(v)));
    }
  }
  return books;
}

void validate_codebooks(const BcqParams& p, const Codebooks& books) {
  if (books.count != p.codebooks || books.entries != p.entries() ||
      books.values.size() != static_cast<size_t>(books.count) * books.entries) {
    throw Error("codebooks hold " + std::to_string(books.count) + " x " +
                std::to_string(books.entries) + " entries; " + p.name() + " needs " +
                std::to_string(p.codebooks) + " x " + std::to_string(p.entries()));
  }
  for (int c = 0; c < books.count; ++c) {
    for (int k = 0; k < books.entries; ++k) {
      const float v = books.book(c)[k];
      if (!std::isfinite(v) || std::fabs(v) > static_cast<float>(p.grid_max()) ||
          (!p.float_entries && v != std::nearbyint(v))) {
        throw Error("codebook " + std::to_string(c) + " entry " + std::to_string(k) + " = " +
                    std::to_string(v) + " is not on the " + std::to_string(p.entry_bits) +
                    "-bit grid [-" + std::to_string(p.grid_max()) + ", " +
                    std::to_string(p.grid_max()) + "]");
      }
      if (k > 0 && books.book(c)[k - 1] > v) {
        throw Error("codebook " + std::to_string(c) + " is not sorted ascending");
      }
    }
  }
}

BcqScaler::BcqScaler(const BcqParams& params, MatrixView x)
    : spec_(scale_spec(params.scale)), grid_max_(static_cast<float>(params.grid_max())) {
  if (params.scale != "ue4m3") return;
  std::int32_t amax = 0;
  for (std::int64_t i = 0; i < x.rows * x.cols; ++i) {
    const auto b = static_cast<std::int32_t>(float_bits(x.data[i]) & 0x7FFFFFFFu);
    amax = std::max(amax, b < 0x7F800000 ? b : 0);
  }
  const float g = bits_float(static_cast<std::uint32_t>(amax)) / (448.0f * grid_max_);
  g_ = g > 0 && std::isfinite(g) ? g : 1.0f;
}

std::uint32_t BcqScaler::scale_code(float amax) const {
  const float s = amax / grid_max_ / g_;
  // An all-zero array, or one of subnormals whose s underflows (E8M0's exponent of 0 is
  // undefined), gets the smallest scale.
  if (!(s > 0)) return spec_.smallest_positive();
  if (spec_.name() == "ue4m3") return encode(*spec_.spec, std::clamp(s, 0x1p-9f, 448.0f));
  if (spec_.name() == "e8m0") {  // the power of two at or above s: no scalar beyond the grid
    const int e = floor_log2(s);
    return static_cast<std::uint32_t>(std::clamp(exp2_int(e) == s ? e : e + 1, -127, 127) + 127);
  }
  return spec_.encode_positive(s);
}

namespace {

class BcqFormat final : public BlockFormat {
 public:
  BcqFormat(const BcqParams& params, Codebooks books)
      : params_(params), books_(std::move(books)), encoder_(params_, books_) {
    validate_codebooks(params_, books_);
    const ScaleSpec scale = scale_spec(params_.scale);
    const std::int64_t entry_bits = params_.float_entries ? 32 : params_.entry_bits;
    info_ = {.name = params_.name(),
             .family = "bcq",
             .element = params_.float_entries ? "float" : "int" + std::to_string(params_.entry_bits),
             .element_bits = params_.index_bits,
             .block = params_.array,
             .scale = params_.scale,
             .scale_bits = 8 * scale.bytes(),
             .side_bits_per_block = params_.array / params_.block * params_.selector_bits(),
             .tensor_scale = params_.scale == "ue4m3",
             .codebook_bits = std::int64_t{params_.codebooks} * params_.entries() * entry_bits,
             .bcq = params_,
             .bits_per_element = params_.index_bits +
                                 std::log2(static_cast<double>(params_.codebooks)) / params_.block +
                                 8.0 * scale.bytes() / params_.array};
  }

  QuantizedTensor quantize(MatrixView x) const override {
    const BcqScaler scaler(params_, x);
    const int selectors_per_array = params_.array / params_.block;
    QuantizedTensor q = make_tensor(x, scaler.spec().bytes(),
                                    (selectors_per_array * params_.selector_bits() + 7) / 8);
    q.tensor_scale = scaler.tensor_scale();
    // A partial last array is encoded from a zero-padded copy.
    std::vector<float> padded(static_cast<size_t>(params_.array));
    std::vector<std::uint8_t> indices(static_cast<size_t>(params_.array)), books(static_cast<size_t>(selectors_per_array));
    for (std::int64_t r = 0; r < x.rows; ++r) {
      for (std::int64_t a = 0; a < q.blocks_per_row(); ++a) {
        const std::int64_t index = r * q.blocks_per_row() + a;
        const float* v = x.row(r) + a * params_.array;
        const int n = static_cast<int>(std::min<std::int64_t>(params_.array, x.cols - a * params_.array));
        std::uint8_t* scale_out = q.scales.data() + index * q.scale_bytes;
        const std::uint32_t amax = amax_bits(v, n);
        if (amax >= 0x7F800000u) {
          store_scale(scale_out, q.scale_bytes, scaler.spec().nan_code());
          continue;
        }
        const std::uint32_t code = scaler.scale_code(bits_float(amax));
        store_scale(scale_out, q.scale_bytes, code);
        if (n < params_.array) {
          std::fill(std::copy(v, v + n, padded.begin()), padded.end(), 0.0f);
          v = padded.data();
        }
        encoder_.encode_blocks(v, scaler.divisor(code), selectors_per_array, books.data(), indices.data());
        if (params_.selector_bits()) {
          std::uint8_t* selectors = q.aux.data() + index * q.aux_bytes;
          pack_codes(selectors, 0, books.data(), selectors_per_array, params_.selector_bits());
        }
        pack_codes(q.row_elements(r), a * params_.array, indices.data(), params_.array,
                   params_.index_bits);
      }
    }
    return q;
  }

  void dequantize(const QuantizedTensor& q, float* out) const override {
    std::vector<float> entries(static_cast<size_t>(q.padded_cols()));
    for (std::int64_t r = 0; r < q.rows; ++r) {
      row_entries(q, r, entries.data());
      for (std::int64_t a = 0; a < q.blocks_per_row(); ++a) {
        const float scale = scale_.decode(
            load_scale(q.scales.data() + (r * q.blocks_per_row() + a) * q.scale_bytes, q.scale_bytes));
        // entry x scale is exact in FP32 for integer entries; then one rounding by g.
        for (std::int64_t c = a * q.block; c < std::min(q.cols, (a + 1) * q.block); ++c) {
          out[r * q.cols + c] = entries[c] * scale * q.tensor_scale;
        }
      }
    }
  }

  bool supports_dot() const override { return !params_.float_entries; }
  const BcqParams& params() const { return params_; }
  const Codebooks& codebooks() const { return books_; }

  void exact_row(const QuantizedTensor& q, std::int64_t r, ExactRow out) const override {
    if (params_.float_entries) {
      throw Error("format '" + info_.name + "' has float codebook entries; the golden dot needs integers");
    }
    std::vector<float> entries(static_cast<size_t>(q.padded_cols()));
    row_entries(q, r, entries.data());
    for (std::int64_t i = 0; i < q.padded_cols(); ++i) {
      out.integers[i] = i < q.cols ? static_cast<std::int64_t>(entries[i]) : 0;  // padding is 0
    }
    for (std::int64_t a = 0; a < q.blocks_per_row(); ++a) {
      out.scales[a] = scale_.exact(
          load_scale(q.scales.data() + (r * q.blocks_per_row() + a) * q.scale_bytes, q.scale_bytes));
    }
  }

  int element_exponent() const override { return 0; }
  std::int64_t max_element_integer() const override { return params_.grid_max(); }

 private:
  void row_entries(const QuantizedTensor& q, std::int64_t r, float* entries) const {
    const std::uint8_t* codes = q.row_elements(r);
    const int bits = params_.index_bits;
    for (std::int64_t a = 0; a < q.blocks_per_row(); ++a) {
      const std::uint8_t* selectors = q.aux.data() + (r * q.blocks_per_row() + a) * q.aux_bytes;
      for (int b = 0; b < params_.array / params_.block; ++b) {
        const float* book = books_.book(
            params_.selector_bits() ? static_cast<int>(unpack_code(selectors, b, params_.selector_bits())) : 0);
        const std::int64_t first = a * params_.array + b * params_.block;
        for (std::int64_t c = first; c < first + params_.block; ++c) {
          entries[c] = book[bits == 4 ? (codes[c / 2] >> (4 * (c % 2))) & 0xF : unpack_code(codes, c, bits)];
        }
      }
    }
  }

  BcqParams params_;
  Codebooks books_;
  BcqEncoder encoder_;
  ScaleSpec scale_ = scale_spec(params_.scale);
};

std::shared_ptr<BlockFormat> make_bcq_by_name(FormatOptions& options) {
  if (options.base() != "bcq") return nullptr;
  const BcqParams params = params_from_options(options);
  return std::make_shared<BcqFormat>(params, default_codebooks(params));
}

}  // namespace

std::shared_ptr<const BlockFormat> make_bcq(const BcqParams& params, Codebooks books) {
  return std::make_shared<BcqFormat>(params, std::move(books));
}

const BcqParams* bcq_params(const BlockFormat& format) {
  const auto& params = format.info().bcq;
  return params ? &*params : nullptr;
}

const Codebooks* bcq_codebooks(const BlockFormat& format) {
  const auto* bcq = dynamic_cast<const BcqFormat*>(&format);
  return bcq ? &bcq->codebooks() : nullptr;
}

FormatFamily bcq_family() {
  return {"bcq", "lb=<2..32, 8>, la=<multiple of lb, 64>, nc=<1..64, 16>, b=<1..4, 4>, e=<2..8, 6>, "
                 "entries=int|float, scale=ue4m3|e8m0|bf16|fp32 (codebooks: nibble calibrate)",
          {"bcq", "bcq:nc=8"}, make_bcq_by_name};
}

}  // namespace nibble

#include "nibble/cuda/layout.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "nibble/models/bcq.h"
#include "nibble/models/block_format.h"
#include "nibble/models/element.h"
#include "nibble/models/error.h"
#include "nibble/models/scale.h"

namespace nibble::cuda {
namespace {

NibbleTable table_from_integers(const std::int64_t (&values)[16]) {
  NibbleTable table{};
  for (int i = 0; i < 16; ++i) {
    const auto byte = static_cast<std::uint32_t>(static_cast<std::uint8_t>(values[i]));
    table.words[i / 4] |= byte << (8 * (i % 4));
  }
  return table;
}

// Element codes through models' own decode: the exact integers of the golden dot.
NibbleTable element_table(const ElementSpec& spec) {
  std::int64_t values[16];
  for (std::uint32_t c = 0; c < 16; ++c) values[c] = decode_integer(spec, c);
  return table_from_integers(values);
}

[[noreturn]] void unsupported(const QuantizedTensor& q, const std::string& why) {
  throw Error("format '" + q.format->info().name + "' is not supported by the CUDA GEMM (" + why +
              "; supported: mxfp4, nvfp4, nvint4, int4_g32, int4_g128, bcq)");
}

KernelFormat recognize(const QuantizedTensor& q) {
  const FormatInfo& info = q.format->info();
  if (q.element_bits != 4) unsupported(q, "elements are not 4-bit codes");
  if (const BcqParams* p = bcq_params(*q.format)) {
    if (p->block != 8 || p->array != 64 || p->index_bits != 4 || p->codebooks > kMaxTables ||
        p->entry_bits > 8 || p->float_entries || p->scale != "ue4m3") {
      unsupported(q, "BCQ kernels need lb=8, la=64, b=4, nc<=16, e<=8, integer entries, ue4m3");
    }
    return KernelFormat::kBcq;
  }
  if (info.side_bits_per_block != 0) unsupported(q, "per-block side data such as zero points");
  if (info.element == "e2m1" && info.scale == "e8m0" && q.block == 32) {
    return KernelFormat::kMxfp4;
  }
  if ((info.element == "e2m1" || info.element == "int4") && info.scale == "ue4m3" &&
      q.block == 16) {
    return KernelFormat::kNv16;
  }
  if (info.element == "int4" && info.scale == "fp16" && (q.block == 32 || q.block == 128)) {
    return q.block == 32 ? KernelFormat::kInt4G32 : KernelFormat::kInt4G128;
  }
  unsupported(q, "no kernel for element " + info.element + ", scale " + info.scale +
                     ", block " + std::to_string(q.block));
}

}  // namespace

KernelLayout kernel_layout(const QuantizedTensor& q) {
  if (!q.format) throw Error("quantized tensor has no format");
  if (q.rows <= 0 || q.cols <= 0) throw Error("quantized tensor is empty");
  const KernelFormat format = recognize(q);
  KernelLayout out;
  LayoutShape& s = out.shape;
  s.format = format;
  s.format_name = q.format->info().name;
  s.rows = q.rows;
  s.cols = q.cols;
  s.block = q.block;
  s.blocks_per_row = q.blocks_per_row();
  s.row_stride = (q.row_bytes() + kRowAlignBytes - 1) / kRowAlignBytes * kRowAlignBytes;
  s.scale_bytes = q.scale_bytes;
  s.tensor_scale = q.tensor_scale;

  out.codes.assign(static_cast<size_t>(q.rows * s.row_stride), 0);
  for (std::int64_t r = 0; r < q.rows; ++r) {
    std::memcpy(out.codes.data() + r * s.row_stride, q.row_elements(r),
                static_cast<size_t>(q.row_bytes()));
  }
  out.scales = q.scales;
  // Every scale code's value, from models, times 2^element_exponent (exact: a power of two).
  const ScaleSpec scale = scale_spec(q.format->info().scale);
  const float element_unit = std::ldexp(1.0f, q.format->element_exponent());
  out.scale_values.resize(std::size_t{1} << (8 * q.scale_bytes));
  for (std::uint32_t code = 0; code < out.scale_values.size(); ++code) {
    out.scale_values[code] = scale.decode(code) * element_unit;
  }

  if (format == KernelFormat::kBcq) {
    const Codebooks& books = *bcq_codebooks(*q.format);
    s.table_count = books.count;
    for (int c = 0; c < books.count; ++c) {
      std::int64_t values[16];
      for (int k = 0; k < 16; ++k) values[k] = static_cast<std::int64_t>(books.book(c)[k]);
      out.tables.push_back(table_from_integers(values));
    }
    // aux holds ceil(8 x selector_bits / 8) bytes per array; widen to one 32-bit word.
    out.selectors.resize(static_cast<size_t>(q.rows * s.blocks_per_row));
    for (size_t i = 0; i < out.selectors.size(); ++i) {
      std::uint32_t word = 0;
      for (int sub = 0; sub < 8; ++sub) {
        const std::uint32_t selector =
            q.aux_bytes ? unpack_code(q.aux.data() + i * q.aux_bytes, sub,
                                      bcq_params(*q.format)->selector_bits())
                        : 0;
        word |= selector << (4 * sub);
      }
      out.selectors[i] = word;
    }
  } else {
    out.tables.push_back(element_table(element_spec(q.format->info().element)));
  }
  return out;
}

void check_gemm_shapes(const LayoutShape& a, const LayoutShape& b) {
  if (a.format_name != b.format_name) {
    throw Error("GEMM operands differ in format: '" + a.format_name + "' vs '" + b.format_name +
                "'");
  }
  if (a.cols != b.cols) {
    throw Error("GEMM operands differ in K: " + std::to_string(a.cols) + " vs " +
                std::to_string(b.cols));
  }
}

float folded_scale(const KernelLayout& layout, std::int64_t row, std::int64_t block) {
  const LayoutShape& s = layout.shape;
  const std::uint8_t* p =
      layout.scales.data() + (row * s.blocks_per_row + block) * s.scale_bytes;
  return layout.scale_values[load_scale(p, s.scale_bytes)];
}

}  // namespace nibble::cuda

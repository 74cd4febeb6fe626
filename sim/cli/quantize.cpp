#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "command.h"
#include "nibble/models/bcq.h"
#include "nibble/models/error.h"
#include "nibble/workloads/codebook_json.h"
#include "nibble/models/registry.h"
#include "nibble/workloads/evaluate.h"
#include "nibble/workloads/npy.h"

namespace nibble::cli {
namespace {

// Packed file layout (all little-endian):
//   "NIBBLEQ1"                            8 bytes
//   rows, cols                            int64 each
//   block, element_bits, scale_bytes, aux_bytes   int32 each
//   tensor_scale                          float32
//   name_length (uint32), format name     canonical format string
//   elements, scales, aux sizes           uint64 each
//   elements, scales, aux                 the QuantizedTensor buffers (see tensor.h)
void write_packed(const std::string& path, const QuantizedTensor& q) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(path + ": cannot open file for writing");
  const auto put = [&](const auto& value) {
    out.write(reinterpret_cast<const char*>(&value), sizeof(value));
  };
  out.write("NIBBLEQ1", 8);
  put(q.rows);
  put(q.cols);
  for (std::int32_t v : {q.block, q.element_bits, q.scale_bytes, q.aux_bytes}) put(v);
  put(q.tensor_scale);
  const std::string& name = q.format->info().name;
  put(static_cast<std::uint32_t>(name.size()));
  out.write(name.data(), static_cast<std::streamsize>(name.size()));
  for (const auto* buffer : {&q.elements, &q.scales, &q.aux}) {
    put(static_cast<std::uint64_t>(buffer->size()));
  }
  for (const auto* buffer : {&q.elements, &q.scales, &q.aux}) {
    out.write(reinterpret_cast<const char*>(buffer->data()),
              static_cast<std::streamsize>(buffer->size()));
  }
  out.close();
  if (!out) throw Error(path + ": write failed");
}

}  // namespace

int run_quantize(const Args& args) {
  namespace po = boost::program_options;
  po::options_description options("quantize options");
  options.add_options()
      ("format", po::value<std::string>()->required(), "format name, e.g. mxfp4:scale=rceil")
      ("in", po::value<std::string>()->required(), "input .npy (float32 or float16, 2-D)")
      ("out", po::value<std::string>()->required(), "output .npy (float32, dequantized)")
      ("packed", po::value<std::string>(), "also write the packed storage to this file")
      ("codebooks", po::value<std::string>(), "BCQ codebooks from nibble calibrate (.json)");
  po::variables_map vm;
  if (!parse_options("quantize", args, options, vm)) return 0;

  auto format = make_format(vm["format"].as<std::string>());
  if (vm.count("codebooks")) {
    const FormatInfo& info = format->info();
    if (!info.bcq) throw Error("--codebooks applies to bcq formats only, not '" + info.name + "'");
    CodebookFile file = load_codebooks(vm["codebooks"].as<std::string>());
    if (!(file.params == *info.bcq)) {
      throw Error(vm["codebooks"].as<std::string>() + ": codebooks are for " + file.params.name() +
                  ", not " + info.bcq->name());
    }
    format = make_bcq(file.params, std::move(file.codebooks));
  }
  Outputs outputs;
  const std::string out = outputs.add(vm["out"].as<std::string>());
  const std::string packed = vm.count("packed") ? outputs.add(vm["packed"].as<std::string>()) : "";
  const Matrix x = read_npy(vm["in"].as<std::string>());
  const QuantizedTensor q = format->quantize(x);
  const Matrix y = format->dequantize(q);
  write_npy(out, y);
  if (!packed.empty()) write_packed(packed, q);
  outputs.commit();

  const QuantError e = quant_error(x, y);
  std::printf("format %s  shape %lld x %lld  bits/element %.4f\n", format->info().name.c_str(),
              static_cast<long long>(x.rows), static_cast<long long>(x.cols),
              format->info().bits_per_element);
  std::printf("mse %.6g  qsnr %.3f dB  max_abs_error %.6g\n", e.mse, e.qsnr_db, e.max_abs_error);
  // NaN and Inf propagate through their blocks (the contract), which makes the error metrics
  // NaN: say how many inputs caused it.
  const auto nan = std::count_if(x.data.begin(), x.data.end(), [](float v) { return std::isnan(v); });
  const auto inf = std::count_if(x.data.begin(), x.data.end(), [](float v) { return std::isinf(v); });
  if (nan + inf > 0) {
    std::printf("non-finite input: %lld NaN and %lld Inf of %lld elements; their blocks "
                "dequantize to NaN\n",
                static_cast<long long>(nan), static_cast<long long>(inf),
                static_cast<long long>(x.data.size()));
  }
  return 0;
}

}  // namespace nibble::cli

// The CUDA W4A4 GEMM against models' golden_gemm, on a GPU. Without a device every test
// skips (never passes), and fails instead under NIBBLE_REQUIRE_GPU=1 (gpu_test_policy.h).
// Inputs are random matrices from a fixed seed, printed and overridable by NIBBLE_SEED.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "cuda/gpu_test_policy.h"
#include "expect_error.h"
#include "nibble/cuda/gemm.h"
#include "nibble/models/dot.h"
#include "nibble/models/registry.h"
#include "test_seed.h"

namespace nibble::cuda {
namespace {

struct DeviceStatus {
  DeviceProbe probe;
  std::string detail;
};

DeviceStatus probe_device() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaSuccess) {
    if (count > 0) return {DeviceProbe::kPresent, ""};
    return {DeviceProbe::kNoDevice, "cudaGetDeviceCount found 0 devices"};
  }
  const std::string error = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
  if (status == cudaErrorNoDevice) return {DeviceProbe::kNoDevice, error};
  // The runtime reports a machine without any CUDA driver as "insufficient driver"; the
  // driver version it then reads is 0. A driver that is present but too old is an error.
  int driver = -1;
  if (status == cudaErrorInsufficientDriver && cudaDriverGetVersion(&driver) == cudaSuccess &&
      driver == 0) {
    return {DeviceProbe::kNoDevice, "no CUDA driver installed"};
  }
  return {DeviceProbe::kError, error};
}

#define REQUIRE_DEVICE()                                                                  \
  do {                                                                                    \
    static const DeviceStatus device = probe_device();                                    \
    const GpuTestDecision decision = decide_gpu_test(                                     \
        device.probe, device.detail, parse_require_gpu(std::getenv("NIBBLE_REQUIRE_GPU"))); \
    if (decision.action == GpuTestAction::kSkip) GTEST_SKIP() << decision.reason;         \
    if (decision.action == GpuTestAction::kFail) FAIL() << decision.reason;               \
  } while (false)

Matrix random_matrix(std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> exponent(-3, 3);
  Matrix m(rows, cols);
  for (float& v : m.data) v = normal(rng) * std::exp2(exponent(rng));
  return m;
}

// sum_j |partial_j| x g_A x g_B for every output: the scale of the rounding error.
Matrix block_term_sums(const QuantizedTensor& qa, const QuantizedTensor& qb) {
  const ExactOperand a(qa), b(qb);
  const int exponent = a.element_exponent() + b.element_exponent();
  Matrix sums(a.rows(), b.rows());
  for (std::int64_t m = 0; m < a.rows(); ++m) {
    for (std::int64_t n = 0; n < b.rows(); ++n) {
      double total = 0;
      for (std::int64_t j = 0; j < a.blocks_per_row(); ++j) {
        std::int64_t s = 0;
        for (int i = 0; i < a.block(); ++i) {
          s += static_cast<std::int64_t>(a.narrow_row(m)[j * a.block() + i]) *
               b.narrow_row(n)[j * a.block() + i];
        }
        const ExactScale& sa = a.scales_row(m)[j];
        const ExactScale& sb = b.scales_row(n)[j];
        total += std::ldexp(std::fabs(static_cast<double>(s)) * static_cast<double>(sa.mantissa) *
                                static_cast<double>(sb.mantissa),
                            exponent + sa.exponent + sb.exponent);
      }
      sums.row(m)[n] = static_cast<float>(total * a.tensor_scale() * b.tensor_scale());
    }
  }
  return sums;
}

// Runs the kernel on a NaN-poisoned output and returns C as floats.
std::vector<float> run_gemm(const DeviceQuantized& a, const DeviceQuantized& b, OutputType type) {
  const std::int64_t count = a.shape().rows * b.shape().rows;
  const size_t element = type == OutputType::kFp32 ? 4 : 2;
  DeviceBuffer c(static_cast<size_t>(count) * element);
  check_cuda(cudaMemset(c.get(), 0xFF, c.bytes()), "cudaMemset (NaN poison)");  // all-ones: NaN
  gemm_w4a4(a, b, type, c.get());
  check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  std::vector<std::uint8_t> bytes(c.bytes());
  check_cuda(cudaMemcpy(bytes.data(), c.get(), c.bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy");
  std::vector<float> out(static_cast<size_t>(count));
  for (size_t i = 0; i < out.size(); ++i) {
    if (type == OutputType::kFp32) {
      std::memcpy(&out[i], bytes.data() + 4 * i, 4);
    } else {  // BF16 is the top half of an FP32
      const std::uint32_t bits = static_cast<std::uint32_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
      std::memcpy(&out[i], &bits, 4);
    }
  }
  return out;
}

using Shape = std::tuple<std::string, std::int64_t, std::int64_t>;  // format, M, N
class CudaGemmTest : public ::testing::TestWithParam<Shape> {};

TEST_P(CudaGemmTest, MatchesGoldenWithinTheAccumulationBound) {
  REQUIRE_DEVICE();
  const auto& [name, m, n] = GetParam();
  constexpr std::int64_t k = 4096 + 96;  // not a multiple of 64 or 128: a partial last block
  std::mt19937 rng(test_seed(/*fallback=*/1));
  const auto format = make_format(name);
  Matrix x = random_matrix(m, k, rng);
  if (m > 1) x.row(1)[100] = std::nanf("");  // a NaN block: row 1 of C must be NaN
  const QuantizedTensor qa = format->quantize(x);
  const QuantizedTensor qb = format->quantize(random_matrix(n, k, rng));
  const Matrix golden = golden_gemm(qa, qb);
  const Matrix terms = block_term_sums(qa, qb);
  const DeviceQuantized a = DeviceQuantized::upload(qa), b = DeviceQuantized::upload(qb);

  // Error bound. Both golden and kernel sum the same nb FP32 block partials (each the exact
  // value rounded once, decode.h), in different orders; any order of nb - 1 FP32 additions
  // is within (nb - 1) u sum|terms| of the exact sum (u = 2^-24, first order), so the two
  // differ by at most 2 (nb - 1) u sum|terms|; the two tensor-scale products add 2u
  // relative on each side. BF16 output then rounds once more: 2^-8 relative to the value.
  const double u = 0x1p-24;
  const double nb = static_cast<double>(qa.blocks_per_row());
  const double rtol = (2 * (nb - 1) + 4) * u;
  const double atol = 0x1p-140;  // subnormal partials, far below any term here
  for (const OutputType type : {OutputType::kFp32, OutputType::kBf16}) {
    const std::vector<float> got = run_gemm(a, b, type);
    int failures = 0;
    for (size_t i = 0; i < got.size() && failures < 10; ++i) {
      const double expected = golden.data[i];
      if (std::isnan(expected)) {
        if (!std::isnan(got[i])) ++failures, ADD_FAILURE() << "C[" << i << "] = " << got[i] << ", golden NaN";
        continue;
      }
      double bound = atol + rtol * terms.data[i];
      if (type == OutputType::kBf16) bound += 0x1p-8 * (std::fabs(expected) + bound);
      // Written so that a NaN result fails the comparison.
      if (!(std::fabs(got[i] - expected) <= bound)) {
        ++failures;
        ADD_FAILURE() << name << (type == OutputType::kFp32 ? " fp32" : " bf16") << " C["
                      << i / n << "][" << i % n << "] = " << got[i] << ", golden " << expected
                      << ", bound " << bound;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CudaGemmTest,
    ::testing::Combine(::testing::Values("mxfp4", "nvfp4", "int4_g32", "int4_g128", "bcq"),
                       ::testing::Values<std::int64_t>(1, 5, 16, 300),
                       ::testing::Values<std::int64_t>(136, 200)),
    [](const auto& info) {
      return std::get<0>(info.param) + "_M" + std::to_string(std::get<1>(info.param)) + "_N" +
             std::to_string(std::get<2>(info.param));
    });

TEST(CudaGemm, RejectsMismatchedOperands) {
  REQUIRE_DEVICE();
  std::mt19937 rng(1);
  const Matrix x = random_matrix(2, 256, rng);
  const DeviceQuantized mx = DeviceQuantized::upload(make_format("mxfp4")->quantize(x));
  const DeviceQuantized nv = DeviceQuantized::upload(make_format("nvfp4")->quantize(x));
  const DeviceQuantized shorter =
      DeviceQuantized::upload(make_format("mxfp4")->quantize(random_matrix(2, 128, rng)));
  DeviceBuffer c(64);
  expect_error([&] { gemm_w4a4(mx, nv, OutputType::kFp32, c.get()); }, {"differ in format"});
  expect_error([&] { gemm_w4a4(mx, shorter, OutputType::kFp32, c.get()); }, {"differ in K"});
  expect_error([&] { gemm_w4a4(mx, mx, OutputType::kFp32, nullptr); }, {"output pointer is null"});
  expect_error([&] { DeviceQuantized::upload(make_format("int4_g128_asym")->quantize(x)); },
               {"not supported by the CUDA GEMM"});
}

}  // namespace
}  // namespace nibble::cuda

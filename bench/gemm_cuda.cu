// W4A4 GEMM kernels (models/cuda) against cuBLAS BF16, cuBLASLt FP8 and a device-to-device
// copy, on Llama-2-7B linear-layer shapes. Run by hand on a GPU (scripts/gpu_check.sh);
// without a device it prints "no CUDA device" and exits 2, as for bad arguments.
//
// Timing: each configuration runs kWarmup times, then kRuns times, each run timed alone by
// CUDA events; the median is reported. Weights are cycled through enough copies to exceed
// 100 MB (more than an H100's 50 MB L2), so every run streams them from DRAM.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "nibble/cuda/gemm.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"

namespace {

using nibble::Error;
using nibble::Matrix;
using nibble::cuda::check_cuda;
using nibble::cuda::DeviceBuffer;
using nibble::cuda::DeviceQuantized;

constexpr int kWarmup = 5, kRuns = 51;
constexpr std::size_t kRotateBytes = std::size_t{100} << 20;

void check_cublas(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw Error(std::string("cuBLAS error in ") + what + ": status " + std::to_string(status));
  }
}

int copies_for(std::size_t bytes) { return static_cast<int>(kRotateBytes / bytes + 2); }

// Median milliseconds of run(i), i = the run index (for rotating buffers).
double median_ms(const std::function<void(int)>& run) {
  cudaEvent_t start, stop;
  check_cuda(cudaEventCreate(&start), "cudaEventCreate");
  check_cuda(cudaEventCreate(&stop), "cudaEventCreate");
  for (int i = 0; i < kWarmup; ++i) run(i);
  std::vector<float> times;
  for (int i = 0; i < kRuns; ++i) {
    check_cuda(cudaEventRecord(start), "cudaEventRecord");
    run(kWarmup + i);
    check_cuda(cudaEventRecord(stop), "cudaEventRecord");
    check_cuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check_cuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    times.push_back(ms);
  }
  check_cuda(cudaEventDestroy(start), "cudaEventDestroy");
  check_cuda(cudaEventDestroy(stop), "cudaEventDestroy");
  std::nth_element(times.begin(), times.begin() + kRuns / 2, times.end());
  return times[kRuns / 2];
}

Matrix random_matrix(std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Matrix m(rows, cols);
  for (float& v : m.data) v = normal(rng);
  return m;
}

// Dense buffers cycled as in the W4A4 runs; filled with a byte pattern (timing does not
// depend on the values; 0x38 is 1.0 in E4M3 and 0x3838 a small BF16).
std::vector<DeviceBuffer> dense_copies(std::size_t bytes) {
  std::vector<DeviceBuffer> copies;
  for (int i = 0; i < copies_for(bytes); ++i) {
    copies.emplace_back(bytes);
    check_cuda(cudaMemset(copies.back().get(), 0x38, bytes), "cudaMemset");
  }
  return copies;
}

struct Shape {
  std::int64_t m, n, k;
};

// C[M, N] = A[M, K] B[N, K]^T in cuBLAS's column-major terms: C^T = op_T(B) A^T, N x M.
double cublas_bf16_ms(cublasHandle_t handle, const Shape& s) {
  DeviceBuffer a(s.m * s.k * 2), c(s.m * s.n * 2);
  check_cuda(cudaMemset(a.get(), 0x38, a.bytes()), "cudaMemset");
  std::vector<DeviceBuffer> weights = dense_copies(s.n * s.k * 2);
  const float alpha = 1, beta = 0;
  return median_ms([&](int i) {
    check_cublas(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, s.n, s.m, s.k, &alpha,
                              weights[i % weights.size()].get(), CUDA_R_16BF, s.k, a.get(),
                              CUDA_R_16BF, s.k, &beta, c.get(), CUDA_R_16BF, s.n,
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx (BF16)");
  });
}

// FP8 E4M3 x E4M3 -> BF16 (the TN layout FP8 requires). Returns a negative time where
// cuBLASLt has no FP8 algorithm (before sm_89).
double cublaslt_fp8_ms(cublasLtHandle_t handle, const Shape& s) {
  DeviceBuffer a(s.m * s.k), c(s.m * s.n * 2);
  check_cuda(cudaMemset(a.get(), 0x38, a.bytes()), "cudaMemset");
  std::vector<DeviceBuffer> weights = dense_copies(s.n * s.k);
  constexpr std::size_t kWorkspace = 32 << 20;
  DeviceBuffer workspace(kWorkspace);
  cublasLtMatmulDesc_t op;
  check_cublas(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "MatmulDescCreate");
  const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
  check_cublas(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose), "TRANSA");
  check_cublas(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &none, sizeof none), "TRANSB");
  cublasLtMatrixLayout_t la, lb, lc;
  check_cublas(cublasLtMatrixLayoutCreate(&la, CUDA_R_8F_E4M3, s.k, s.n, s.k), "layout A");
  check_cublas(cublasLtMatrixLayoutCreate(&lb, CUDA_R_8F_E4M3, s.k, s.m, s.k), "layout B");
  check_cublas(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, s.n, s.m, s.n), "layout C");
  cublasLtMatmulPreference_t preference;
  check_cublas(cublasLtMatmulPreferenceCreate(&preference), "PreferenceCreate");
  check_cublas(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                    &kWorkspace, sizeof kWorkspace),
               "workspace preference");
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle, op, la, lb, lc, lc, preference, 1,
                                                               &heuristic, &found);
  double ms = -1;
  if (status == CUBLAS_STATUS_SUCCESS && found > 0) {
    const float alpha = 1, beta = 0;
    ms = median_ms([&](int i) {
      check_cublas(cublasLtMatmul(handle, op, &alpha, weights[i % weights.size()].get(), la, a.get(), lb,
                                  &beta, c.get(), lc, c.get(), lc, &heuristic.algo, workspace.get(),
                                  kWorkspace, nullptr),
                   "cublasLtMatmul (FP8)");
    });
  }
  cublasLtMatmulPreferenceDestroy(preference);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatmulDescDestroy(op);
  return ms;
}

// Device-to-device copy of `bytes`: the DRAM bandwidth ceiling (reads + writes).
double memcpy_gbps(std::size_t bytes) {
  std::vector<DeviceBuffer> sources = dense_copies(bytes);
  DeviceBuffer target(bytes);
  const double ms = median_ms([&](int i) {
    check_cuda(cudaMemcpyAsync(target.get(), sources[i % sources.size()].get(), bytes,
                               cudaMemcpyDeviceToDevice),
               "cudaMemcpyAsync (D2D)");
  });
  return 2.0 * bytes / (ms * 1e6);
}

// What to measure: by default every format on every Llama-2-7B shape; `gemm_cuda FORMAT M N K`
// measures one configuration (for a profiler such as ncu).
struct Selection {
  std::vector<std::string> formats = {"mxfp4", "nvfp4", "int4_g32", "int4_g128", "bcq"};
  std::vector<std::int64_t> ms = {1, 16, 2048};
  std::vector<std::pair<std::int64_t, std::int64_t>> layers = {{4096, 4096}, {11008, 4096}, {4096, 11008}};
};

// Bounds on `gemm_cuda FORMAT M N K`: each host matrix stays within 1 GiB of floats.
constexpr std::int64_t kMaxDimension = 65536, kMaxElements = std::int64_t{1} << 28;

std::int64_t parse_dimension(const char* text) {
  std::int64_t value = 0;
  const char* end = text + std::strlen(text);
  const auto [last, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || last != end || value < 1 || value > kMaxDimension) {
    throw Error(std::string("dimension '") + text + "' is not an integer in [1, 65536]");
  }
  return value;
}

Selection select(int argc, char** argv) {
  Selection all;
  if (argc == 1) return all;
  if (argc != 5) throw Error("usage: gemm_cuda [FORMAT M N K]");
  nibble::make_format(argv[1]);  // refuses an unknown format by name
  const std::int64_t m = parse_dimension(argv[2]), n = parse_dimension(argv[3]), k = parse_dimension(argv[4]);
  if (std::max(m, n) * k > kMaxElements) throw Error("M x K and N x K must be at most 2^28 elements");
  return {{argv[1]}, {m}, {{n, k}}};
}

// One format's weights for one layer, uploaded in enough copies to defeat the L2.
struct Weights {
  std::string format;
  std::vector<DeviceQuantized> copies;
};

std::vector<Weights> upload_weights(const Selection& selection, std::int64_t n, std::int64_t k,
                                    std::mt19937& rng) {
  const Matrix w = random_matrix(n, k, rng);
  std::vector<Weights> all;
  for (const std::string& name : selection.formats) {
    const nibble::cuda::KernelLayout layout = nibble::cuda::kernel_layout(nibble::make_format(name)->quantize(w));
    Weights weights{name, {}};
    weights.copies.push_back(DeviceQuantized::upload(layout));
    const int copies = copies_for(weights.copies[0].device_bytes());
    for (int i = 1; i < copies; ++i) weights.copies.push_back(DeviceQuantized::upload(layout));
    all.push_back(std::move(weights));
  }
  return all;
}

int run(const Selection& selection) {
  int devices = 0;
  const cudaError_t status = cudaGetDeviceCount(&devices);
  if (status != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: %s\n",
                status != cudaSuccess ? cudaGetErrorString(status) : "cudaGetDeviceCount found 0");
    return 2;
  }
  cudaDeviceProp prop{};
  check_cuda(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("device: %s (sm_%d%d), L2 %d MB; median of %d runs after %d warm-up, weights "
              "rotated over > %zu MB\n",
              prop.name, prop.major, prop.minor, prop.l2CacheSize >> 20, kRuns, kWarmup,
              kRotateBytes >> 20);
  cublasHandle_t blas;
  cublasLtHandle_t blas_lt;
  check_cublas(cublasCreate(&blas), "cublasCreate");
  check_cublas(cublasLtCreate(&blas_lt), "cublasLtCreate");
  std::printf("memcpy D2D: %.0f GB/s\n", memcpy_gbps(std::size_t{256} << 20));

  std::mt19937 rng(1);
  std::printf("%-10s %5s %6s %6s %10s %9s %8s %8s %8s\n", "format", "M", "N", "K", "time_us",
              "TFLOP/s", "GB/s", "vs_bf16", "vs_fp8");
  for (const auto& [n, k] : selection.layers) {
    // Quantized once per layer and format: the weights do not depend on M.
    const std::vector<Weights> layer_weights = upload_weights(selection, n, k, rng);
    for (const std::int64_t m : selection.ms) {
      const Shape s{m, n, k};
      const double flops = 2.0 * m * n * k;
      const double bf16 = cublas_bf16_ms(blas, s);
      const double fp8 = cublaslt_fp8_ms(blas_lt, s);
      std::printf("%-10s %5lld %6lld %6lld %10.1f %9.1f %8.0f %8s %8s\n", "cublas_bf16",
                  static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k),
                  bf16 * 1e3, flops / (bf16 * 1e9), 2.0 * (m + n) * k / (bf16 * 1e6), "1.00", "");
      if (fp8 > 0) {
        std::printf("%-10s %5lld %6lld %6lld %10.1f %9.1f %8.0f %8.2f %8s\n", "cublaslt_fp8",
                    static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k),
                    fp8 * 1e3, flops / (fp8 * 1e9), 1.0 * (m + n) * k / (fp8 * 1e6), bf16 / fp8, "1.00");
      } else {
        std::printf("%-10s %5lld %6lld %6lld   (no FP8 algorithm on this device)\n", "cublaslt_fp8",
                    static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k));
      }
      const Matrix activations = random_matrix(m, k, rng);
      for (const Weights& weights : layer_weights) {
        const auto& copies = weights.copies;
        const DeviceQuantized a = DeviceQuantized::upload(nibble::make_format(weights.format)->quantize(activations));
        DeviceBuffer c(m * n * 2);
        const double t = median_ms([&](int i) {
          nibble::cuda::gemm_w4a4(a, copies[i % copies.size()], nibble::cuda::OutputType::kBf16, c.get());
        });
        const double bytes = static_cast<double>(copies[0].device_bytes() + a.device_bytes()) + 2.0 * m * n;
        char vs_fp8[16] = "";
        if (fp8 > 0) std::snprintf(vs_fp8, sizeof vs_fp8, "%.2f", fp8 / t);
        std::printf("%-10s %5lld %6lld %6lld %10.1f %9.1f %8.0f %8.2f %8s\n", weights.format.c_str(),
                    static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k),
                    t * 1e3, flops / (t * 1e9), bytes / (t * 1e6), bf16 / t, vs_fp8);
      }
    }
  }
  check_cuda(cudaGetLastError(), "benchmark");
  cublasLtDestroy(blas_lt);
  cublasDestroy(blas);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Selection selection;
  try {
    selection = select(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "gemm_cuda: error: %s\n", e.what());
    return 2;
  }
  try {
    return run(selection);
  } catch (const Error& e) {
    std::fprintf(stderr, "gemm_cuda: %s\n", e.what());
    return 1;
  }
}

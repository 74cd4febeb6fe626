#include "nibble/models/blas.h"

#include <cblas.h>

#include <climits>
#include <mutex>

#include "nibble/models/error.h"

namespace nibble {
namespace {

void single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

blasint blas_int(std::int64_t v) {
  if (v < 0 || v > INT_MAX) throw Error("GEMM dimension " + std::to_string(v) + " exceeds the BLAS integer range");
  return static_cast<blasint>(v);
}

}  // namespace

void sgemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
           float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
           float beta, float* c, std::int64_t ldc) {
  single_threaded_blas();
  cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
              transpose_b ? CblasTrans : CblasNoTrans, blas_int(m), blas_int(n), blas_int(k), alpha,
              a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

Matrix matmul_nt(MatrixView a, MatrixView b) {
  if (a.cols != b.cols) throw Error("matmul: inner dimensions differ (" + std::to_string(a.cols) + " vs " + std::to_string(b.cols) + ")");
  Matrix c(a.rows, b.rows);
  sgemm(false, true, a.rows, b.rows, a.cols, 1.0f, a.data, a.cols, b.data, b.cols, 0.0f,
        c.data.data(), c.cols);
  return c;
}

std::vector<double> matmul_nt_f64(MatrixView a, MatrixView b) {
  if (a.cols != b.cols) throw Error("matmul: inner dimensions differ (" + std::to_string(a.cols) + " vs " + std::to_string(b.cols) + ")");
  single_threaded_blas();
  const std::vector<double> a64(a.data, a.data + a.rows * a.cols), b64(b.data, b.data + b.rows * b.cols);
  std::vector<double> c(static_cast<size_t>(a.rows * b.rows));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(a.rows), blas_int(b.rows),
              blas_int(a.cols), 1.0, a64.data(), blas_int(a.cols), b64.data(), blas_int(b.cols), 0.0,
              c.data(), blas_int(b.rows));
  return c;
}

std::string blas_configuration() { return openblas_get_config(); }

}  // namespace nibble

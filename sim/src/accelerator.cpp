#include "nibble/sim/accelerator.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "ceil_div.h"
#include "text.h"
#include "nibble/models/dot.h"
#include "nibble/models/error.h"
#include "nibble/models/parallel.h"

namespace nibble {
std::vector<Gemm> load_gemms(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open file");
  std::vector<Gemm> gemms;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> fields;
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, ',');) fields.push_back(trim(f));
    while (!fields.empty() && fields.back().empty()) fields.pop_back();  // SCALE-Sim's trailing comma
    if (fields.empty() || fields[0].empty() || fields[0][0] == '#') continue;
    if (number == 1 && fields.size() >= 4 && !std::isdigit(static_cast<unsigned char>(fields[1][0]))) {
      continue;  // header: name,M,N,K or Layer, M, N, K
    }
    if (fields.size() != 4) {
      throw Error(path + ":" + std::to_string(number) + ": expected 4 fields (name, M, N, K), got " +
                  std::to_string(fields.size()));
    }
    Gemm g{fields[0]};
    std::int64_t* dims[] = {&g.m, &g.n, &g.k};
    for (int i = 0; i < 3; ++i) {
      size_t used = 0;
      try {
        *dims[i] = std::stoll(fields[i + 1], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != fields[i + 1].size() || *dims[i] <= 0) {
        throw Error(path + ":" + std::to_string(number) + ": '" + fields[i + 1] +
                    "' is not a positive integer");
      }
    }
    gemms.push_back(g);
  }
  if (gemms.empty()) throw Error(path + ": no GEMMs");
  return gemms;
}

Matrix functional_gemm(const HardwareConfig& hw, const QuantizedTensor& a, const QuantizedTensor& w,
                       int threads) {
  ExactOperand ea(a), ew(w);
  prepare_dot_pair(ea, ew);
  Matrix c(a.rows, w.rows);
  const std::int64_t m_tiles = ceil_div(a.rows, hw.rows), n_tiles = ceil_div(w.rows, hw.cols);
  parallel_for(m_tiles * n_tiles, threads, [&](std::int64_t t) {
    const std::int64_t m0 = t / n_tiles * hw.rows, n0 = t % n_tiles * hw.cols;
    for (std::int64_t i = m0; i < std::min(a.rows, m0 + hw.rows); ++i) {
      for (std::int64_t j = n0; j < std::min(w.rows, n0 + hw.cols); ++j) {
        c.row(i)[j] = golden_dot(ea, i, ew, j);  // DPU (i - m0, j - n0) of this tile
      }
    }
  });
  return c;
}

}  // namespace nibble

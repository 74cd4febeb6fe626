// The vector BCQ encoder on every SIMD target this CPU runs, against a scalar brute force of
// bcq.h's rules, and LO-BCQ calibration, which must not depend on the target.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "bcq_encoder.h"  // white-box: the centroid statistics
#include "every_target.h"
#include "nibble/models/bcq.h"
#include "nibble/models/scale.h"
#include "nibble/models/simd.h"

namespace nibble {
namespace {

// Scalars of every kind the encoder meets: random magnitudes, values on integers and on
// midpoints between them (ties for integer entries), zero arrays. Every eighth scalar is 31,
// so every array has amax 31, which FP32 and E8M0 scales (s = 1) map to y = x: there the
// half-integers stay exact ties in the scaled domain.
Matrix test_tensor(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::exponential_distribution<float> spread(1.0f);
  std::uniform_int_distribution<int> half_steps(-62, 62);
  Matrix m(rows, cols);
  for (std::int64_t i = 0; i < rows * cols; ++i) {
    m.data[i] = i % 8 == 1   ? 31.0f
                : i % 3 == 0 ? static_cast<float>(half_steps(rng)) / 2
                             : std::clamp(normal(rng) * (0.2f + spread(rng)), -31.0f, 31.0f);
  }
  for (std::int64_t c = 0; c < std::min<std::int64_t>(cols, 64); ++c) m.data[c] = 0;
  return m;
}

struct Encoding {
  std::vector<int> books, indices;
};

// bcq.h's rules one scalar at a time: y = x / (s g) in FP32; per codebook the nearest entry
// of every scalar (a linear scan, ties to the larger entry) and the FP32 sum of squared
// errors in scalar order; the least error wins, ties to the lowest codebook.
Encoding brute_force(const BcqParams& p, const Codebooks& books, const QuantizedTensor& q, MatrixView x) {
  const ScaleSpec spec = scale_spec(p.scale);
  Encoding e;
  for (std::int64_t r = 0; r < x.rows; ++r) {
    for (std::int64_t a = 0; a < q.blocks_per_row(); ++a) {
      const std::uint32_t code = load_scale(q.scales.data() + (r * q.blocks_per_row() + a) * q.scale_bytes, q.scale_bytes);
      const float divisor = std::max(spec.decode(code) * q.tensor_scale, std::numeric_limits<float>::denorm_min());
      for (int b = 0; b < p.array / p.block; ++b) {
        float best_error = INFINITY;
        int best = 0;
        std::vector<int> best_indices;
        for (int c = 0; c < p.codebooks; ++c) {
          float error = 0;
          std::vector<int> indices;
          for (int i = 0; i < p.block; ++i) {
            const std::int64_t col = a * p.array + b * p.block + i;
            const float y = col < x.cols ? x.row(r)[col] / divisor : 0.0f;
            const float* entry = books.book(c);
            int k = 0;
            for (int j = 1; j < p.entries(); ++j) {
              if (std::fabs(y - entry[j]) <= std::fabs(y - entry[k])) k = j;
            }
            const float d = y - entry[k];
            error += d * d;
            indices.push_back(k);
          }
          if (error < best_error) {
            best_error = error;
            best = c;
            best_indices = indices;
          }
        }
        e.books.push_back(best);
        e.indices.insert(e.indices.end(), best_indices.begin(), best_indices.end());
      }
    }
  }
  return e;
}

Encoding encoding_of(const BcqParams& p, const QuantizedTensor& q) {
  Encoding e;
  for (std::int64_t r = 0; r < q.rows; ++r) {
    for (std::int64_t a = 0; a < q.blocks_per_row(); ++a) {
      const std::uint8_t* selectors = q.aux.data() + (r * q.blocks_per_row() + a) * q.aux_bytes;
      for (int b = 0; b < p.array / p.block; ++b) {
        e.books.push_back(p.selector_bits() ? static_cast<int>(unpack_code(selectors, b, p.selector_bits())) : 0);
        for (int i = 0; i < p.block; ++i) {
          e.indices.push_back(static_cast<int>(unpack_code(q.row_elements(r), a * p.array + b * p.block + i, p.index_bits)));
        }
      }
    }
  }
  return e;
}

// Sorted random integer codebooks, with repeated entries, on the grid.
Codebooks random_codebooks(const BcqParams& p, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> entry(-p.grid_max(), p.grid_max());
  Codebooks books{p.codebooks, p.entries(), {}};
  for (int c = 0; c < p.codebooks; ++c) {
    std::vector<float> e;
    for (int k = 0; k < p.entries(); ++k) e.push_back(static_cast<float>(entry(rng) / (1 + c % 3)));
    std::sort(e.begin(), e.end());
    books.values.insert(books.values.end(), e.begin(), e.end());
  }
  return books;
}

TEST(BcqEncoder, EverySimdTargetEqualsBruteForce) {
  // nc=16: one AVX-512 vector of codebooks; nc=64: several; nc=5 and lb=3: partial vectors and
  // pieces; E8M0 and FP32 scales; a partial last array (cols not a multiple of la).
  const char* names[] = {"bcq", "bcq:nc=64", "bcq:nc=5:lb=3:la=96:b=3:e=4", "bcq:scale=e8m0:lb=16",
                         "bcq:scale=fp32:nc=12:lb=2:la=8", "bcq:nc=5:b=3:e=4:lb=4:la=16:scale=fp32", "bcq:nc=1"};
  const Matrix x = test_tensor(7, 1000, 11);
  std::vector<std::string> targets;
  for (const char* name : names) {
    SCOPED_TRACE(name);
    const BcqParams p = parse_bcq_params(name);
    for (const Codebooks& books : {default_codebooks(p), random_codebooks(p, 5)}) {
      const auto f = make_bcq(p, books);
      // The scales are scalar code, the same on every target.
      const Encoding expected = brute_force(p, books, f->quantize(x), x);
      targets = on_every_target([&] {
        const Encoding got = encoding_of(p, f->quantize(x));
        ASSERT_EQ(got.books, expected.books);
        ASSERT_EQ(got.indices, expected.indices);
      });
    }
  }
  RecordProperty("targets", ::testing::PrintToString(targets));
}

TEST(BcqEncoder, CalibrationIsTheSameOnEverySimdTarget) {
  const Matrix x = test_tensor(64, 512, 12);
  std::vector<CalibrationResult> results;
  on_every_target([&] {
    results.push_back(calibrate_bcq(BcqParams{}, {MatrixView(x)}, {.max_iterations = 6, .threads = 2}));
  });
  for (const CalibrationResult& r : results) {
    EXPECT_EQ(r.codebooks.values, results.front().codebooks.values);
    EXPECT_EQ(r.mse, results.front().mse);
  }
}

// Calibration's statistics: the nearest entry by a linear scan over FP32 distances (ties to
// the larger entry), and the error of the entries the encoder picks. Scalars next to the
// midpoints between entries far apart, where FP32 rounds both distances to one value (a false
// tie that the scan resolves to the larger entry and the encoder, exactly, does not).
TEST(BcqEncoder, CentroidStatisticsFollowTheLinearScan) {
  const BcqParams p = parse_bcq_params("bcq:nc=2:b=2:lb=4:la=8:scale=fp32");
  const Codebooks books{2, 4, {-31, -30, 29, 31, -3, -3, 2, 31}};
  const BcqEncoder encoder(p, books);
  std::vector<float> y;
  for (const float mid : {-0.5f, 0.0f, 1.0f, -30.5f, -0.5f, 16.5f, 30.0f}) {
    for (float v = std::nextafter(mid, -INFINITY), i = 0; i < 5; ++i, v = std::nextafter(v, INFINITY)) y.push_back(v);
  }
  y.resize((y.size() + 3) / 4 * 4, 0.25f);
  bool false_tie = false;
  for (size_t b = 0; b < y.size(); b += 4) {
    for (int c = 0; c < 2; ++c) {
      std::uint8_t nearest[4];
      const float error = encoder.block_statistics(c, y.data() + b, nearest);
      float expected_error = 0;
      for (int i = 0; i < 4; ++i) {
        const float* e = books.book(c);
        int scan = 0;
        for (int k = 1; k < 4; ++k) {
          if (std::fabs(y[b + i] - e[k]) <= std::fabs(y[b + i] - e[scan])) scan = k;
        }
        EXPECT_EQ(nearest[i], scan) << y[b + i];
        int exact = 0;  // nearest in exact arithmetic (double holds these differences), ties up
        for (int k = 1; k < 4; ++k) {
          if (std::fabs(double{y[b + i]} - e[k]) <= std::fabs(double{y[b + i]} - e[exact])) exact = k;
        }
        false_tie = false_tie || exact != scan;
        const float d = y[b + i] - e[exact];
        expected_error += d * d;
      }
      EXPECT_EQ(error, expected_error);
    }
  }
  EXPECT_TRUE(false_tie);  // the case the scan and the encoder tell apart is exercised
}

}  // namespace
}  // namespace nibble

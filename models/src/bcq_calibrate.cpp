// LO-BCQ codebook calibration (see nibble/models/bcq.h).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "bcq_encoder.h"
#include "formats/fast_paths.h"
#include "nibble/models/bits.h"
#include "nibble/models/error.h"
#include "nibble/models/parallel.h"

namespace nibble {

std::vector<float> bcq_calibration_sample(const BcqParams& params,
                                          const std::vector<MatrixView>& tensors,
                                          std::int64_t max_blocks, std::uint64_t seed) {
  std::int64_t total = 0;
  for (const MatrixView& t : tensors) {
    total += t.rows * ((t.cols + params.array - 1) / params.array) * (params.array / params.block);
  }
  // Each block is kept with probability max_blocks / total, drawn from one seeded stream.
  const double keep = max_blocks > 0 && total > max_blocks
                          ? static_cast<double>(max_blocks) / static_cast<double>(total)
                          : 1.0;
  std::mt19937_64 rng(seed);
  std::vector<float> sample;
  std::vector<float> y(static_cast<size_t>(params.array));
  for (const MatrixView& t : tensors) {
    const BcqScaler scaler(params, t);
    for (std::int64_t r = 0; r < t.rows; ++r) {
      for (std::int64_t a = 0; a * params.array < t.cols; ++a) {
        const float* v = t.row(r) + a * params.array;
        const int n = static_cast<int>(std::min<std::int64_t>(params.array, t.cols - a * params.array));
        const std::uint32_t amax = amax_bits(v, n);
        if (amax == 0 || amax >= 0x7F800000u) continue;
        const float divisor = scaler.divisor(scaler.scale_code(bits_float(amax)));
        for (int i = 0; i < params.array; ++i) y[i] = i < n ? v[i] / divisor : 0.0f;
        for (int b = 0; b < params.array; b += params.block) {
          if (keep < 1.0 && static_cast<double>(rng() >> 11) * 0x1p-53 >= keep) continue;
          sample.insert(sample.end(), y.begin() + b, y.begin() + b + params.block);
        }
      }
    }
  }
  return sample;
}

namespace {

float round_entry(double v, const BcqParams& p) {
  const double m = p.grid_max();
  const double clamped = std::clamp(v, -m, m);
  return static_cast<float>(p.float_entries ? clamped : std::nearbyint(clamped));
}

// Sorts ascending by value, as std::sort would, in linear time: LSD radix sort on the float
// bits mapped to unsigned order. Values comparing equal are equal bit for bit, but for -0
// and +0, which share one key (so their order is the input's, the sort being stable). The
// values are finite: calibration samples skip non-finite arrays.
void sort_values(std::vector<float>& values) {
  const auto key = [](float v) {
    const std::uint32_t b = v == 0 ? 0x80000000u : float_bits(v);
    return b & 0x80000000u ? ~b : b | 0x80000000u;
  };
  std::vector<float> buffer(values.size());
  constexpr int kBits = 11, kPasses = 3;  // 33 >= 32 bits
  for (int pass = 0; pass < kPasses; ++pass) {
    const int shift = pass * kBits;
    std::vector<size_t> start((1u << kBits) + 1, 0);
    for (const float v : values) ++start[((key(v) >> shift) & ((1u << kBits) - 1)) + 1];
    for (size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
    for (const float v : values) buffer[start[(key(v) >> shift) & ((1u << kBits) - 1)]++] = v;
    values.swap(buffer);
  }
}

// A 2^b-level Lloyd-Max quantizer of `values` (sorted), started from quantiles.
std::vector<float> lloyd_max(const std::vector<float>& values, const BcqParams& p) {
  const int levels = p.entries();
  std::vector<double> entries(static_cast<size_t>(levels));
  for (int k = 0; k < levels; ++k) {
    entries[k] = values[static_cast<size_t>((k + 0.5) / levels * static_cast<double>(values.size()))];
  }
  for (int iteration = 0; iteration < 20; ++iteration) {
    std::vector<double> sum(static_cast<size_t>(levels), 0.0);
    std::vector<std::int64_t> count(static_cast<size_t>(levels), 0);
    size_t k = 0;
    for (float v : values) {  // values are sorted, so the nearest level only moves up
      while (k + 1 < entries.size() && std::fabs(v - entries[k + 1]) <= std::fabs(v - entries[k])) ++k;
      sum[k] += v;
      ++count[k];
    }
    const std::vector<double> previous = entries;
    for (int j = 0; j < levels; ++j) {
      if (count[j]) entries[j] = sum[j] / static_cast<double>(count[j]);
    }
    std::sort(entries.begin(), entries.end());
    if (entries == previous) break;  // a fixed point: every further iteration repeats this one
  }
  std::vector<float> rounded(static_cast<size_t>(levels));
  for (int j = 0; j < levels; ++j) rounded[j] = round_entry(entries[j], p);
  std::sort(rounded.begin(), rounded.end());
  return rounded;
}

Codebooks initial_codebooks(const BcqParams& p, const std::vector<float>& y, std::int64_t blocks, int threads) {
  // Rank blocks by their amax in the scaled domain and give each of N_c equal groups the
  // Lloyd-Max quantizer of its scalars.
  std::vector<std::pair<float, std::int64_t>> ranked(static_cast<size_t>(blocks));
  for (std::int64_t b = 0; b < blocks; ++b) {
    float amax = 0;
    for (int i = 0; i < p.block; ++i) amax = std::max(amax, std::fabs(y[b * p.block + i]));
    ranked[b] = {amax, b};
  }
  std::sort(ranked.begin(), ranked.end());
  Codebooks books = default_codebooks(p);
  parallel_for(p.codebooks, threads, [&](std::int64_t c) {
    const std::int64_t first = blocks * c / p.codebooks, last = blocks * (c + 1) / p.codebooks;
    std::vector<float> values;
    for (std::int64_t i = first; i < last; ++i) {
      const float* v = y.data() + ranked[i].second * p.block;
      values.insert(values.end(), v, v + p.block);
    }
    if (values.size() < static_cast<size_t>(p.entries())) return;  // keep the default
    sort_values(values);
    const std::vector<float> entries = lloyd_max(values, p);
    std::copy(entries.begin(), entries.end(), books.values.begin() + c * p.entries());
  });
  return books;
}

// Runs fn(first_block, last_block, chunk) over fixed chunks of blocks on `threads` threads.
// Chunks, not threads, own the partial results, so every reduction happens in chunk order.
constexpr std::int64_t kChunk = 4096;

template <typename Fn>
void for_chunks(std::int64_t blocks, int threads, Fn fn) {
  const std::int64_t chunks = (blocks + kChunk - 1) / kChunk;
  parallel_for(chunks, threads, [&](std::int64_t c) { fn(c * kChunk, std::min(blocks, (c + 1) * kChunk), c); });
}

}  // namespace

CalibrationResult calibrate_bcq(const BcqParams& p, const std::vector<MatrixView>& tensors,
                                const CalibrationOptions& options) {
  const std::vector<float> y = bcq_calibration_sample(p, tensors, options.max_blocks, options.seed);
  const std::int64_t blocks = static_cast<std::int64_t>(y.size()) / p.block;
  if (blocks < p.codebooks) {
    throw Error("calibration needs at least " + std::to_string(p.codebooks) +
                " non-zero blocks, got " + std::to_string(blocks));
  }
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::int64_t chunks = (blocks + kChunk - 1) / kChunk;
  const double scalars = static_cast<double>(y.size());
  const int nc = p.codebooks, levels = p.entries();

  CalibrationResult result{initial_codebooks(p, y, blocks, threads), {}};
  std::vector<std::uint8_t> assignment(static_cast<size_t>(blocks));

  // (i) Assignment: every block to its least-error codebook. Returns the total error.
  const auto assign = [&](const Codebooks& books) {
    const BcqEncoder encoder(p, books);
    std::vector<double> chunk_error(static_cast<size_t>(chunks), 0.0);
    for_chunks(blocks, threads, [&](std::int64_t first, std::int64_t last, std::int64_t chunk) {
      std::vector<std::uint8_t> indices(static_cast<size_t>((last - first) * p.block));
      std::vector<float> errors(static_cast<size_t>(last - first));
      encoder.encode_blocks(y.data() + first * p.block, 1.0f, last - first, assignment.data() + first,
                            indices.data(), errors.data());
      chunk_error[chunk] = std::accumulate(errors.begin(), errors.end(), 0.0);
    });
    return std::accumulate(chunk_error.begin(), chunk_error.end(), 0.0);
  };
  // Error of each codebook on the blocks assigned to it, plus the sums and counts of the
  // scalars nearest to each of its entries (the Lloyd-Max centroid statistics).
  struct Stats {
    std::vector<double> error, sum;
    std::vector<std::int64_t> count;
  };
  const auto statistics = [&](const Codebooks& books) {
    const BcqEncoder encoder(p, books);
    std::vector<Stats> per_chunk(static_cast<size_t>(chunks));
    for_chunks(blocks, threads, [&](std::int64_t first, std::int64_t last, std::int64_t chunk) {
      Stats s{std::vector<double>(nc, 0.0), std::vector<double>(static_cast<size_t>(nc) * levels, 0.0),
              std::vector<std::int64_t>(static_cast<size_t>(nc) * levels, 0)};
      std::uint8_t nearest[32];
      for (std::int64_t b = first; b < last; ++b) {
        const float* v = y.data() + b * p.block;
        const int c = assignment[b];
        s.error[c] += encoder.block_statistics(c, v, nearest);
        for (int i = 0; i < p.block; ++i) {
          s.sum[static_cast<size_t>(c) * levels + nearest[i]] += v[i];
          ++s.count[static_cast<size_t>(c) * levels + nearest[i]];
        }
      }
      per_chunk[chunk] = std::move(s);
    });
    Stats total{std::vector<double>(nc, 0.0), std::vector<double>(static_cast<size_t>(nc) * levels, 0.0),
                std::vector<std::int64_t>(static_cast<size_t>(nc) * levels, 0)};
    for (const Stats& s : per_chunk) {
      for (size_t i = 0; i < total.error.size(); ++i) total.error[i] += s.error[i];
      for (size_t i = 0; i < total.sum.size(); ++i) {
        total.sum[i] += s.sum[i];
        total.count[i] += s.count[i];
      }
    }
    return total;
  };

  // assign() leaves `assignment` for the codebooks it was given: each iteration starts from
  // the assignment to result.codebooks.
  result.mse.push_back(assign(result.codebooks) / scalars);
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    const Stats old_stats = statistics(result.codebooks);
    // (ii) Centroid update per codebook, on the grid.
    Codebooks updated = result.codebooks;
    for (int c = 0; c < nc; ++c) {
      float* entries = updated.values.data() + static_cast<size_t>(c) * levels;
      for (int k = 0; k < levels; ++k) {
        const size_t i = static_cast<size_t>(c) * levels + k;
        if (old_stats.count[i]) entries[k] = round_entry(old_stats.sum[i] / static_cast<double>(old_stats.count[i]), p);
      }
      std::sort(entries, entries + levels);
    }
    // Keep an update only where it does not raise that codebook's error on its blocks.
    const Stats new_stats = statistics(updated);
    for (int c = 0; c < nc; ++c) {
      if (new_stats.error[c] > old_stats.error[c]) {
        std::copy(result.codebooks.book(c), result.codebooks.book(c) + levels,
                  updated.values.begin() + static_cast<std::ptrdiff_t>(c) * levels);
      }
    }
    result.codebooks = std::move(updated);
    const double mse = assign(result.codebooks) / scalars;
    const double previous = result.mse.back();
    result.mse.push_back(mse);
    if (previous - mse <= options.tolerance * previous) break;
  }
  return result;
}

}  // namespace nibble

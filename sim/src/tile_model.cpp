// The closed-form evaluation of a mapping (mapping.h) and the mapper.
//
// A mapping's steps form a three-level loop nest (outer block, inner block, K chunk). What a
// step costs depends only on its own indices and those of its neighbours (a load happens when
// the operand block differs from the previous step's; results leave after the last chunk), and
// along each level only positions 0, 1, n-2 and n-1 differ from the middle ones. So the sums
// over all steps are sums over at most 5 x 5 x 5 representative steps, each weighted by how
// many steps it stands for: a mapping costs the same to evaluate for 10 steps or 10 million.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "ceil_div.h"
#include "nibble/models/error.h"
#include "nibble/sim/accelerator.h"

namespace nibble {

std::int64_t dram_cycles(const HardwareConfig& hw, std::int64_t bytes) {
  if (bytes == 0) return 0;
  return hw.dram_latency +
         static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) / hw.dram_bytes_per_cycle));
}

OperandBytes row_bytes(const BlockFormat& format, std::int64_t k) {
  const FormatInfo& info = format.info();
  const std::int64_t blocks = ceil_div(k, info.block);
  OperandBytes b;
  b.elements = ceil_div(blocks * info.block * info.element_bits, 8);
  b.scales = blocks * ceil_div(info.scale_bits, 8);
  b.side = ceil_div(blocks * info.side_bits_per_block, 8);
  return b;
}

std::int64_t codebook_bytes(const BlockFormat& format) { return ceil_div(format.info().codebook_bits, 8); }

Mapping array_tile_mapping(const HardwareConfig& hw, const Gemm& gemm) {
  return {"m-outer", hw.rows, hw.cols, gemm.k};
}

namespace {

struct Index {
  std::int64_t mb = 0, nb = 0, kc = 0;
  bool operator==(const Index&) const = default;
};

struct StepCost {
  std::int64_t a_load = 0, w_load = 0, results = 0, compute = 0;
  std::int64_t a_read = 0, w_read = 0, block_ops = 0, port_stretch = 0, blocks = 0;
  OperandBytes a_bytes, w_bytes;  // a_load and w_load split by content (codebooks apart)
  std::int64_t load() const { return a_load + w_load; }
};

OperandBytes scaled(const OperandBytes& row, std::int64_t rows) {
  return {row.elements * rows, row.scales * rows, row.side * rows, 0};
}

void add(OperandBytes& total, const OperandBytes& part, std::int64_t weight) {
  total.elements += part.elements * weight;
  total.scales += part.scales * weight;
  total.side += part.side * weight;
  total.codebooks += part.codebooks * weight;
}

// Everything about one GEMM under one mapping that does not depend on the step.
class MappedGemm {
 public:
  MappedGemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a, const BlockFormat& w,
             const Mapping& mapping)
      : hw_(hw), gemm_(gemm), mapping_(mapping), m_outer_(loop_order(mapping.order).outer == GemmDim::kM) {
    const std::int64_t block = a.info().block;
    kb_ = ceil_div(gemm.k, block);
    chunk_blocks_ = mapping.tile_k >= gemm.k ? kb_ : mapping.tile_k / block;
    k_chunks_ = ceil_div(kb_, chunk_blocks_);
    m_blocks_ = ceil_div(gemm.m, mapping.tile_m);
    n_blocks_ = ceil_div(gemm.n, mapping.tile_n);
    const std::int64_t chunk_k = chunk_blocks_ * block;
    const std::int64_t last_k = gemm.k - (k_chunks_ - 1) * chunk_k;
    a_chunk_ = {row_bytes(a, chunk_k), row_bytes(a, last_k)};
    w_chunk_ = {row_bytes(w, chunk_k), row_bytes(w, last_k)};
    a_codebooks_ = codebook_bytes(a);
    w_codebooks_ = codebook_bytes(w);
    const std::int64_t a_half = hw.a_buffer_bytes / 2, w_half = hw.w_buffer_bytes / 2;
    a_block_fits_ = std::min(mapping.tile_m, gemm.m) * a_chunk_[0].total() <= a_half;
    w_block_fits_ = std::min(mapping.tile_n, gemm.n) * w_chunk_[0].total() <= w_half;
    // The operand the inner loop walks over stays whole when it fits.
    if (m_outer_) {
      w_whole_ = gemm.n * row_bytes(w, gemm.k).total() <= w_half;
    } else {
      a_whole_ = gemm.m * row_bytes(a, gemm.k).total() <= a_half;
    }
    a_all_ = scaled(row_bytes(a, gemm.k), gemm.m);
    w_all_ = scaled(row_bytes(w, gemm.k), gemm.n);
    // A block step reads one block of A per array row and one of W per column.
    const auto port_cycles = [&](const BlockFormat& f, std::int64_t lines, int banks, int bank_bytes) {
      if (banks == 0 || bank_bytes == 0) return std::int64_t{1};
      return std::max<std::int64_t>(1, ceil_div(lines * row_bytes(f, f.info().block).total(),
                                                static_cast<std::int64_t>(banks) * bank_bytes));
    };
    const int lanes = hw.dpu_lanes > 0 ? hw.dpu_lanes : a.info().block;
    issue_cycles_ = hw.dpu_initiation_interval * ceil_div(block, lanes);
    cycles_per_block_step_ = std::max({issue_cycles_, port_cycles(a, hw.rows, hw.a_banks, hw.a_bank_bytes),
                                       port_cycles(w, hw.cols, hw.w_banks, hw.w_bank_bytes)});
    levels_ = m_outer_ ? std::array{m_blocks_, n_blocks_, k_chunks_} : std::array{n_blocks_, m_blocks_, k_chunks_};
  }

  std::int64_t steps() const { return levels_[0] * levels_[1] * levels_[2]; }
  std::int64_t cycles_per_block_step() const { return cycles_per_block_step_; }
  std::int64_t issue_cycles() const { return issue_cycles_; }
  std::int64_t block_results_bytes() const {
    return std::min(mapping_.tile_m, gemm_.m) * std::min(mapping_.tile_n, gemm_.n) * 4;
  }
  bool blocks_fit() const { return (a_block_fits_ || a_whole_) && (w_block_fits_ || w_whole_); }
  // Without a K-split results drain tile by tile (check_gemm checks a tile's); with one, the
  // block's partial sums wait in half the output buffer.
  bool partials_fit() const { return k_chunks_ == 1 || block_results_bytes() <= hw_.o_buffer_bytes / 2; }
  const std::array<std::int64_t, 3>& levels() const { return levels_; }

  Index index(std::int64_t s) const {
    const std::int64_t inner = s % levels_[2], middle = s / levels_[2] % levels_[1], outer = s / levels_[2] / levels_[1];
    return m_outer_ ? Index{outer, middle, inner} : Index{middle, outer, inner};
  }
  std::int64_t linear(const std::array<std::int64_t, 3>& at) const {
    return (at[0] * levels_[1] + at[1]) * levels_[2] + at[2];
  }

  // Outputs of the block at `at` (the edge blocks are clipped).
  std::int64_t block_rows(const Index& at) const { return std::min(mapping_.tile_m, gemm_.m - at.mb * mapping_.tile_m); }
  std::int64_t block_cols(const Index& at) const { return std::min(mapping_.tile_n, gemm_.n - at.nb * mapping_.tile_n); }
  bool last_chunk(const Index& at) const { return at.kc == k_chunks_ - 1; }

  // The cost of the step at `cur`; `prev` is the step before it (nullptr for the first).
  StepCost cost(const Index& cur, const Index* prev) const {
    StepCost c;
    const std::int64_t rows = block_rows(cur), cols = block_cols(cur);
    const bool last_chunk = this->last_chunk(cur);
    const OperandBytes& a_row = a_chunk_[last_chunk];
    const OperandBytes& w_row = w_chunk_[last_chunk];
    const bool first = prev == nullptr;
    if (a_whole_) {
      if (first) c.a_bytes = a_all_;
    } else if (first || !a_block_fits_ || prev->mb != cur.mb || prev->kc != cur.kc) {
      c.a_bytes = scaled(a_row, rows);
    }
    if (w_whole_) {
      if (first) c.w_bytes = w_all_;
    } else if (first || !w_block_fits_ || prev->nb != cur.nb || prev->kc != cur.kc) {
      c.w_bytes = scaled(w_row, cols);
    }
    if (first) {
      c.a_bytes.codebooks = a_codebooks_;
      c.w_bytes.codebooks = w_codebooks_;
    }
    c.a_load = c.a_bytes.total();
    c.w_load = c.w_bytes.total();
    const std::int64_t m_tiles = ceil_div(rows, hw_.rows), n_tiles = ceil_div(cols, hw_.cols);
    const std::int64_t tiles = m_tiles * n_tiles;
    c.blocks = std::min(chunk_blocks_, kb_ - cur.kc * chunk_blocks_);
    c.compute = tiles * c.blocks * cycles_per_block_step_ + (tiles - (first ? 1 : 0)) * hw_.dpu_clear_cycles;
    c.port_stretch = tiles * c.blocks * (cycles_per_block_step_ - issue_cycles_);
    c.a_read = a_row.total() * rows * n_tiles;
    c.w_read = w_row.total() * cols * m_tiles;
    c.block_ops = rows * cols * c.blocks;
    c.results = last_chunk ? rows * cols * 4 : 0;
    return c;
  }

  GemmStats evaluate(bool with_schedule) const;

 private:
  const HardwareConfig& hw_;
  const Gemm& gemm_;
  const Mapping& mapping_;
  bool m_outer_;
  std::int64_t kb_ = 0, chunk_blocks_ = 0, k_chunks_ = 0, m_blocks_ = 0, n_blocks_ = 0;
  std::array<OperandBytes, 2> a_chunk_, w_chunk_;  // per row: a full chunk, the last chunk
  std::int64_t a_codebooks_ = 0, w_codebooks_ = 0;
  bool a_block_fits_ = false, w_block_fits_ = false, a_whole_ = false, w_whole_ = false;
  OperandBytes a_all_, w_all_;
  std::int64_t issue_cycles_ = 1, cycles_per_block_step_ = 1;
  std::array<std::int64_t, 3> levels_{};
};

// Representative positions along a level of n steps, each with the count it stands for.
struct Position {
  std::int64_t index, count;
};
std::vector<Position> positions(std::int64_t n) {
  if (n <= 5) {
    std::vector<Position> all;
    for (std::int64_t i = 0; i < n; ++i) all.push_back({i, 1});
    return all;
  }
  return {{0, 1}, {1, 1}, {2, n - 4}, {n - 2, 1}, {n - 1, 1}};
}

GemmStats MappedGemm::evaluate(bool with_schedule) const {
  GemmStats st;
  st.gemm = gemm_;
  st.mapping = mapping_;
  st.steps = steps();
  st.tiles = ceil_div(gemm_.m, hw_.rows) * ceil_div(gemm_.n, hw_.cols);
  st.cycles_per_block_step = cycles_per_block_step_;
  const std::int64_t last = st.steps - 1;
  const auto store_cycles = [&](std::int64_t s) {
    if (s < 0) return std::int64_t{0};
    const Index at = index(s);
    return last_chunk(at) ? dram_cycles(hw_, block_rows(at) * block_cols(at) * 4) : 0;
  };
  const auto cost_at = [&](std::int64_t s) {
    const Index cur = index(s);
    if (s == 0) return cost(cur, nullptr);
    const Index prev = index(s - 1);
    return cost(cur, &prev);
  };
  const StepCost first = cost_at(0);
  std::int64_t cycles = dram_cycles(hw_, first.load());
  st.stall_first_load = cycles;
  std::int64_t compute = 0;
  const auto account = [&](std::int64_t s, std::int64_t weight) {
    const StepCost c = cost_at(s);
    const std::int64_t next_load = s < last ? dram_cycles(hw_, cost_at(s + 1).load()) : 0;
    const std::int64_t channel = next_load + store_cycles(s - 1);
    cycles += weight * std::max(c.compute, channel);
    const std::int64_t exposed = std::max<std::int64_t>(0, channel - c.compute);
    const std::int64_t loading = std::min(exposed, next_load);
    st.stall_operand_load += weight * loading;
    st.stall_result_store += weight * (exposed - loading);
    compute += weight * c.compute;
    st.stall_sram_ports += weight * c.port_stretch;
    st.dpu_block_ops += weight * c.block_ops;
    st.sram_read_a += weight * c.a_read;
    st.sram_read_w += weight * c.w_read;
    st.dram_out_bytes += weight * c.results;
    add(st.dram_a, c.a_bytes, weight);
    add(st.dram_w, c.w_bytes, weight);
    if (with_schedule) {
      st.schedule.push_back({c.a_load, c.w_load, c.a_read, c.w_read, c.results, c.blocks, c.compute});
    }
  };
  if (with_schedule) {
    constexpr std::int64_t kMaxScheduleSteps = std::int64_t{1} << 26;
    if (st.steps > kMaxScheduleSteps) {
      throw Error("sim: " + gemm_.name + " under " + mapping_.describe() + " has " + std::to_string(st.steps) +
                  " steps; a step schedule (for the SystemC shell) holds at most " + std::to_string(kMaxScheduleSteps));
    }
    st.schedule.reserve(static_cast<size_t>(st.steps));
    for (std::int64_t s = 0; s < st.steps; ++s) account(s, 1);
  } else {
    for (const Position& p0 : positions(levels_[0])) {
      for (const Position& p1 : positions(levels_[1])) {
        for (const Position& p2 : positions(levels_[2])) {
          account(linear({p0.index, p1.index, p2.index}), p0.count * p1.count * p2.count);
        }
      }
    }
  }
  const std::int64_t last_store = store_cycles(last);
  cycles += hw_.dpu_latency + last_store;
  st.stall_result_store += last_store;
  st.cycles = cycles;
  st.compute_cycles = compute + hw_.dpu_latency;
  st.stall_cycles = st.cycles - st.compute_cycles;
  st.utilization = static_cast<double>(st.dpu_block_ops) /
                   (static_cast<double>(hw_.rows) * hw_.cols * static_cast<double>(st.cycles));
  return st;
}

void check_gemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a, const BlockFormat& w) {
  if (a.info().block != w.info().block) {
    throw Error("operand formats " + a.info().name + " and " + w.info().name +
                " have different block sizes; a DPU needs matching K-blocks");
  }
  // Every count below (bytes, block operations, cycles) stays far from int64's range.
  constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;
  if (gemm.m < 1 || gemm.n < 1 || gemm.k < 1 || gemm.m > kMaxDim || gemm.n > kMaxDim || gemm.k > kMaxDim ||
      static_cast<double>(gemm.m) * static_cast<double>(gemm.n) * static_cast<double>(gemm.k) > 1e17) {
    throw Error("sim: GEMM " + gemm.name + " (" + std::to_string(gemm.m) + " x " + std::to_string(gemm.n) +
                " x " + std::to_string(gemm.k) + ") is outside the model's range (each dimension 1..2^31, "
                "M x N x K <= 1e17)");
  }
  const std::int64_t tile_results = static_cast<std::int64_t>(hw.rows) * hw.cols * 4;
  if (tile_results > hw.o_buffer_bytes / 2) {
    throw Error("sim: a tile's " + std::to_string(tile_results) + " result bytes do not fit half the " +
                std::to_string(hw.o_buffer_bytes) + "-byte output buffer");
  }
}

}  // namespace

GemmStats simulate_gemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                        const BlockFormat& w, const Mapping& mapping, bool with_schedule) {
  check_gemm(hw, gemm, a, w);
  const std::int64_t block = a.info().block;
  if (mapping.tile_m < 1 || mapping.tile_m % hw.rows || mapping.tile_n < 1 || mapping.tile_n % hw.cols ||
      mapping.tile_k < 1 || (mapping.tile_k % block && mapping.tile_k < gemm.k)) {
    throw Error("sim: mapping " + mapping.describe() + " needs blocks in multiples of the " +
                std::to_string(hw.rows) + " x " + std::to_string(hw.cols) + " array and K chunks in "
                "multiples of the " + std::to_string(block) + "-element block");
  }
  const MappedGemm mapped(hw, gemm, a, w, mapping);
  if (!mapped.partials_fit()) {
    throw Error("sim: mapping " + mapping.describe() + ": a block's " + std::to_string(mapped.block_results_bytes()) +
                " bytes of K-split partial sums do not fit half the " + std::to_string(hw.o_buffer_bytes) +
                "-byte output buffer");
  }
  return mapped.evaluate(with_schedule);
}

GemmStats simulate_gemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                        const BlockFormat& w) {
  return simulate_gemm(hw, gemm, a, w, array_tile_mapping(hw, gemm));
}

GemmStats best_mapping(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                       const BlockFormat& w) {
  check_gemm(hw, gemm, a, w);
  const std::int64_t block = a.info().block;
  const std::int64_t kb = ceil_div(gemm.k, block);
  // Block sizes: the array times powers of two up to the whole (rounded-up) extent, and the
  // most array rows (columns) whose operand rows over all of K fit half their buffer.
  const auto sizes = [](std::int64_t unit, std::int64_t extent, std::int64_t row_bytes, std::int64_t half) {
    std::vector<std::int64_t> out;
    const std::int64_t whole = ceil_div(extent, unit) * unit;
    for (std::int64_t t = unit; t < whole; t *= 2) out.push_back(t);
    out.push_back(whole);
    const std::int64_t most = half / std::max<std::int64_t>(1, row_bytes) / unit * unit;
    if (most > unit && most < whole && std::find(out.begin(), out.end(), most) == out.end()) out.push_back(most);
    return out;
  };
  const std::int64_t a_row = row_bytes(a, gemm.k).total(), w_row = row_bytes(w, gemm.k).total();
  std::vector<GemmStats> legal;
  for (const LoopOrder& order : loop_orders()) {
    for (const std::int64_t tm : sizes(hw.rows, gemm.m, a_row, hw.a_buffer_bytes / 2)) {
      for (const std::int64_t tn : sizes(hw.cols, gemm.n, w_row, hw.w_buffer_bytes / 2)) {
        // The largest K chunk (in blocks) whose operand blocks fit their halves.
        std::int64_t lo = 1, hi = kb, fit = 0;
        while (lo <= hi) {
          const std::int64_t mid = lo + (hi - lo) / 2;
          const Mapping trial{std::string(order.name), tm, tn, std::min(mid * block, gemm.k)};
          const MappedGemm mapped(hw, gemm, a, w, trial);
          if (mapped.blocks_fit() && mapped.partials_fit()) {
            fit = mid;
            lo = mid + 1;
          } else {
            hi = mid - 1;
          }
        }
        if (fit == 0) continue;
        const Mapping mapping{std::string(order.name), tm, tn, fit == kb ? gemm.k : fit * block};
        legal.push_back(MappedGemm(hw, gemm, a, w, mapping).evaluate(/*with_schedule=*/false));
      }
    }
  }
  if (legal.empty()) {
    throw Error("sim: no mapping of " + gemm.name + " fits the buffers (even one block of one array row "
                "and column exceeds half the A or W buffer)");
  }
  std::int64_t fewest = std::numeric_limits<std::int64_t>::max();
  for (const GemmStats& s : legal) fewest = std::min(fewest, s.cycles);
  const double window = static_cast<double>(fewest) * (1 + kMapperCycleTolerance);
  const GemmStats* best = nullptr;
  for (const GemmStats& s : legal) {
    if (static_cast<double>(s.cycles) > window) continue;
    if (!best || s.dram_bytes() < best->dram_bytes() ||
        (s.dram_bytes() == best->dram_bytes() && s.cycles < best->cycles)) {
      best = &s;
    }
  }
  return *best;
}

}  // namespace nibble

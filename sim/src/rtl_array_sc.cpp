#include "nibble/sim/rtl_array_sc.h"

#include <bit>
#include <cstring>

#include "Vdpu_mx_sc.h"
#include "Vdpu_mx_sc_dpu_mx.h"
#include "nibble/models/block_format.h"
#include "nibble/models/error.h"

namespace nibble {

const int RtlDpuArray::kLatency = Vdpu_mx_sc_dpu_mx::LATENCY;

namespace {

constexpr int kBlock = 32;       // mxfp4: 32 E2M1 codes (16 bytes) and one E8M0 scale a block
constexpr int kBlockBytes = 16;

void check_mxfp4(const QuantizedTensor& t, const char* which) {
  const FormatInfo& info = t.format->info();
  if (info.block != kBlock || t.element_bits != 4 || t.scale_bytes != 1 || t.aux_bytes != 0 ||
      t.tensor_scale != 1.0f || info.family != "mx" || info.element != "e2m1") {
    throw Error(std::string("rtl array: ") + which + " is " + info.name +
                "; the Verilated array holds mxfp4 x mxfp4 units");
  }
}

sc_dt::sc_bv<128> block_bits(const QuantizedTensor& t, std::int64_t row, std::int64_t block) {
  sc_dt::sc_bv<128> bits;  // zero for rows beyond the tensor (idle PEs)
  if (row < t.rows) {
    const std::uint8_t* bytes = t.row_elements(row) + block * kBlockBytes;
    for (int word = 0; word < 4; ++word) {
      std::uint32_t v;
      std::memcpy(&v, bytes + 4 * word, 4);  // element i at bits [4i +: 4]: little-endian words
      bits.set_word(word, v);
    }
  }
  return bits;
}

std::uint32_t block_scale(const QuantizedTensor& t, std::int64_t row, std::int64_t block) {
  return row < t.rows ? t.scales[static_cast<size_t>(row * t.blocks_per_row() + block)] : 127;
}

}  // namespace

RtlDpuArray::RtlDpuArray(sc_core::sc_module_name name, const HardwareConfig& hw,
                         std::vector<std::pair<QuantizedTensor, QuantizedTensor>> gemms)
    : sc_module(name),
      rows_(hw.rows),
      cols_(hw.cols),
      gemms_(std::move(gemms)),
      clock_("clock", sc_core::sc_time(1.0 / hw.clock_ghz, sc_core::SC_NS)),
      a_blocks_("a_blocks", static_cast<size_t>(hw.rows)),
      w_blocks_("w_blocks", static_cast<size_t>(hw.cols)),
      a_scales_("a_scales", static_cast<size_t>(hw.rows)),
      w_scales_("w_scales", static_cast<size_t>(hw.cols)),
      results_("results", static_cast<size_t>(hw.rows) * hw.cols) {
  check(gemms_);
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      auto unit = std::make_unique<Vdpu_mx_sc>(sc_core::sc_gen_unique_name("pe"));
      unit->clk_i(clock_);
      unit->rst_ni(reset_n_);
      unit->clear_i(clear_);
      unit->valid_i(valid_);
      unit->a_i(a_blocks_[static_cast<size_t>(r)]);
      unit->a_scale_i(a_scales_[static_cast<size_t>(r)]);
      unit->b_i(w_blocks_[static_cast<size_t>(c)]);
      unit->b_scale_i(w_scales_[static_cast<size_t>(c)]);
      unit->acc_o(results_[static_cast<size_t>(r * cols_ + c)]);
      units_.push_back(std::move(unit));
    }
  }
  SC_THREAD(drive);
}

RtlDpuArray::~RtlDpuArray() = default;

void RtlDpuArray::check(const std::vector<std::pair<QuantizedTensor, QuantizedTensor>>& gemms) {
  for (const auto& [a, w] : gemms) {
    check_mxfp4(a, "A");
    check_mxfp4(w, "W");
    if (a.cols != w.cols) throw Error("rtl array: A and W have different K");
  }
}

void RtlDpuArray::present(const QuantizedTensor& a, const QuantizedTensor& w, std::int64_t m0,
                          std::int64_t n0, std::int64_t block) {
  for (int r = 0; r < rows_; ++r) {
    a_blocks_[static_cast<size_t>(r)].write(block_bits(a, m0 + r, block));
    a_scales_[static_cast<size_t>(r)].write(block_scale(a, m0 + r, block));
  }
  for (int c = 0; c < cols_; ++c) {
    w_blocks_[static_cast<size_t>(c)].write(block_bits(w, n0 + c, block));
    w_scales_[static_cast<size_t>(c)].write(block_scale(w, n0 + c, block));
  }
}

// Inputs change and results are read at falling edges, half a cycle away from the rising edge
// the units sample and update on.
void RtlDpuArray::drive() {
  const auto next_cycle = [&] { wait(clock_.negedge_event()); };
  reset_n_.write(false);
  next_cycle();
  next_cycle();
  reset_n_.write(true);
  for (const auto& [a, w] : gemms_) {
    const std::int64_t blocks = a.blocks_per_row();
    const std::int64_t n_tiles = (w.rows + cols_ - 1) / cols_;
    const std::int64_t tiles = (a.rows + rows_ - 1) / rows_ * n_tiles;
    const std::int64_t slot = blocks + 1;  // a tile's block steps and the idle cycle after it
    RtlGemmRun run{Matrix(a.rows, w.rows), 0};
    // Edge e (from 1) samples block e - 1 - t * slot of tile t. Edge t * slot + 2 clears the
    // accumulators, after the previous partials and before tile t's first; tile t's last
    // partial is added at edge t * slot + blocks + 2 and read at the falling edge after it.
    const std::int64_t edges = (tiles - 1) * slot + blocks + 2;
    for (std::int64_t e = 1; e <= edges + 1; ++e) {
      const std::int64_t t = (e - 1) / slot, step = (e - 1) % slot;
      const std::int64_t done = e - 1 - blocks - 2;  // tile whose result is ready now, if any
      if (done >= 0 && done % slot == 0) {
        const std::int64_t d = done / slot, m0 = d / n_tiles * rows_, n0 = d % n_tiles * cols_;
        for (std::int64_t i = m0; i < std::min<std::int64_t>(a.rows, m0 + rows_); ++i) {
          for (std::int64_t j = n0; j < std::min<std::int64_t>(w.rows, n0 + cols_); ++j) {
            run.c.row(i)[j] = std::bit_cast<float>(results_[static_cast<size_t>((i - m0) * cols_ + j - n0)].read());
          }
        }
      }
      if (e > edges) break;
      const bool sampling = t < tiles && step < blocks;
      valid_.write(sampling);
      clear_.write(t < tiles && step == 1);  // tile 0 too: the previous GEMM left its results
      if (sampling) present(a, w, t / n_tiles * rows_, t % n_tiles * cols_, step);
      next_cycle();
    }
    run.compute_cycles = edges;
    runs.push_back(std::move(run));
  }
  sc_core::sc_stop();
}

}  // namespace nibble

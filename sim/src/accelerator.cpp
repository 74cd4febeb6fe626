#include "nibble/sim/accelerator.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "ceil_div.h"
#include "text.h"
#include "nibble/models/bcq.h"
#include "nibble/models/dot.h"
#include "nibble/models/error.h"
#include "nibble/models/registry.h"
#include "nibble/models/scale.h"

namespace nibble {
namespace {

[[noreturn]] void fail_at(const std::string& path, const YAML::Mark& mark, const std::string& what) {
  throw Error(path + ":" + std::to_string(mark.line + 1) + ": " + what);
}

// Reads the keys of a YAML map, rejecting any key not in `known`.
void check_keys(const std::string& path, const YAML::Node& map, const std::set<std::string>& known,
                const std::string& where) {
  if (!map.IsMap()) fail_at(path, map.Mark(), where + " must be a map");
  for (const auto& item : map) {
    const auto key = item.first.as<std::string>();
    if (!known.count(key)) {
      std::string valid;
      for (const auto& k : known) valid += (valid.empty() ? "" : ", ") + k;
      fail_at(path, item.first.Mark(), "unknown key '" + key + "' in " + where + " (valid: " + valid + ")");
    }
  }
}

template <typename T>
void read(const std::string& path, const YAML::Node& map, const char* key, T& out, double lo) {
  const YAML::Node node = map[key];
  if (!node) return;  // keep the default
  try {
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    fail_at(path, node.Mark(), std::string("'") + key + "' is not a number");
  }
  if (!(static_cast<double>(out) >= lo)) {
    fail_at(path, node.Mark(), std::string("'") + key + "' must be >= " + std::to_string(lo));
  }
}

}  // namespace

HardwareConfig load_hardware(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error(path + ": cannot open file");
  } catch (const YAML::ParserException& e) {
    throw Error(path + ":" + std::to_string(e.mark.line + 1) + ": malformed YAML (" + e.msg + ")");
  }
  HardwareConfig hw;
  check_keys(path, root, {"clock_ghz", "array", "dpu", "buffers", "dram"}, "the hardware file");
  read(path, root, "clock_ghz", hw.clock_ghz, 1e-6);
  if (const auto array = root["array"]) {
    check_keys(path, array, {"rows", "cols"}, "array");
    read(path, array, "rows", hw.rows, 1);
    read(path, array, "cols", hw.cols, 1);
  }
  if (const auto dpu = root["dpu"]) {
    check_keys(path, dpu, {"format", "lanes", "initiation_interval", "latency", "clear_cycles"}, "dpu");
    if (const YAML::Node format = dpu["format"]) {
      try {
        hw.dpu_format = make_format(format.as<std::string>())->info().name;
      } catch (const std::exception& e) {
        fail_at(path, format.Mark(), std::string("dpu format: ") + e.what());
      }
    }
    read(path, dpu, "lanes", hw.dpu_lanes, 0);
    read(path, dpu, "initiation_interval", hw.dpu_initiation_interval, 1);
    read(path, dpu, "latency", hw.dpu_latency, 0);
    read(path, dpu, "clear_cycles", hw.dpu_clear_cycles, 0);
  }
  if (const auto buffers = root["buffers"]) {
    check_keys(path, buffers,
               {"a_kib", "w_kib", "o_kib", "a_banks", "a_bank_bytes", "w_banks", "w_bank_bytes"}, "buffers");
    read(path, buffers, "a_banks", hw.a_banks, 0);
    read(path, buffers, "a_bank_bytes", hw.a_bank_bytes, 0);
    read(path, buffers, "w_banks", hw.w_banks, 0);
    read(path, buffers, "w_bank_bytes", hw.w_bank_bytes, 0);
    double a_kib = static_cast<double>(hw.a_buffer_bytes) / 1024, w_kib = static_cast<double>(hw.w_buffer_bytes) / 1024;
    read(path, buffers, "a_kib", a_kib, 1.0 / 1024);
    read(path, buffers, "w_kib", w_kib, 1.0 / 1024);
    hw.a_buffer_bytes = static_cast<std::int64_t>(a_kib * 1024);
    hw.w_buffer_bytes = static_cast<std::int64_t>(w_kib * 1024);
    double o_kib = static_cast<double>(hw.o_buffer_bytes) / 1024;
    read(path, buffers, "o_kib", o_kib, 1.0 / 1024);
    hw.o_buffer_bytes = static_cast<std::int64_t>(o_kib * 1024);
  }
  if (const auto dram = root["dram"]) {
    check_keys(path, dram, {"bytes_per_cycle", "latency"}, "dram");
    read(path, dram, "bytes_per_cycle", hw.dram_bytes_per_cycle, 1e-9);
    read(path, dram, "latency", hw.dram_latency, 0);
  }
  return hw;
}

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

OperandBytes row_bytes(const BlockFormat& format, std::int64_t k) {
  const FormatInfo& info = format.info();
  const std::int64_t blocks = ceil_div(k, info.block);
  const std::int64_t padded = blocks * info.block;
  OperandBytes b;
  b.elements = ceil_div(padded * info.element_bits, 8);
  b.scales = blocks * scale_spec(info.scale).bytes();
  // Whatever bits_per_element counts beyond elements and scales is side data.
  const double side_bits = (info.bits_per_element - info.element_bits) * static_cast<double>(padded) -
                           8.0 * static_cast<double>(b.scales);
  b.side = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(side_bits / 8 - 1e-9)));
  return b;
}

std::int64_t codebook_bytes(const BlockFormat& format) {
  const BcqParams* params = bcq_params(format);
  if (!params) return 0;
  const std::int64_t entry_bits = params->float_entries ? 32 : params->entry_bits;
  return ceil_div(static_cast<std::int64_t>(params->codebooks) * params->entries() * entry_bits, 8);
}

std::int64_t dram_cycles(const HardwareConfig& hw, std::int64_t bytes) {
  if (bytes == 0) return 0;
  return hw.dram_latency +
         static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) / hw.dram_bytes_per_cycle));
}

GemmStats simulate_gemm(const HardwareConfig& hw, const Gemm& gemm, const BlockFormat& a,
                        const BlockFormat& w) {
  if (a.info().block != w.info().block) {
    throw Error("operand formats " + a.info().name + " and " + w.info().name +
                " have different block sizes; a DPU needs matching K-blocks");
  }
  const std::int64_t kb = ceil_div(gemm.k, a.info().block);
  const std::int64_t m_tiles = ceil_div(gemm.m, hw.rows), n_tiles = ceil_div(gemm.n, hw.cols);
  const OperandBytes a_row = row_bytes(a, gemm.k), w_row = row_bytes(w, gemm.k);
  const bool w_resident = gemm.n * w_row.total() <= hw.w_buffer_bytes / 2;
  const bool a_reused = hw.rows * a_row.total() <= hw.a_buffer_bytes / 2;
  const auto transfer = [&](std::int64_t bytes) { return dram_cycles(hw, bytes); };

  GemmStats st;
  st.gemm = gemm;
  st.tiles = m_tiles * n_tiles;
  st.blocks_per_tile = kb;
  const auto add = [](OperandBytes& total, const OperandBytes& row, std::int64_t rows) {
    total.elements += row.elements * rows;
    total.scales += row.scales * rows;
    total.side += row.side * rows;
  };
  // DRAM cycles to bring in tile t's operands, and to store its results.
  std::vector<std::int64_t> load(static_cast<size_t>(st.tiles) + 1, 0), store(static_cast<size_t>(st.tiles), 0);
  const std::int64_t tile_results = static_cast<std::int64_t>(hw.rows) * hw.cols * 4;
  if (tile_results > hw.o_buffer_bytes / 2) {
    throw Error("sim: a tile's " + std::to_string(tile_results) + " result bytes do not fit half the " +
                std::to_string(hw.o_buffer_bytes) + "-byte output buffer");
  }
  st.schedule.reserve(static_cast<size_t>(st.tiles));
  st.dram_a.codebooks = codebook_bytes(a);
  st.dram_w.codebooks = codebook_bytes(w);
  for (std::int64_t t = 0; t < st.tiles; ++t) {
    const std::int64_t mt = t / n_tiles, nt = t % n_tiles;
    const std::int64_t rows = std::min<std::int64_t>(hw.rows, gemm.m - mt * hw.rows);
    const std::int64_t cols = std::min<std::int64_t>(hw.cols, gemm.n - nt * hw.cols);
    GemmStats::TileStep step;
    if (nt == 0 || !a_reused) {
      add(st.dram_a, a_row, rows);
      step.a_load = a_row.total() * rows;
    }
    if (!w_resident || t == 0) {
      const std::int64_t w_rows = w_resident ? gemm.n : cols;
      add(st.dram_w, w_row, w_rows);
      step.w_load = w_row.total() * w_rows;
    }
    if (t == 0) {
      step.a_load += st.dram_a.codebooks;
      step.w_load += st.dram_w.codebooks;
    }
    step.a_read = a_row.total() * rows;
    step.w_read = w_row.total() * cols;
    step.results = rows * cols * 4;
    load[t] = transfer(step.load());
    store[t] = transfer(step.results);
    st.sram_read_a += step.a_read;
    st.sram_read_w += step.w_read;
    st.dram_out_bytes += step.results;
    st.schedule.push_back(step);
    st.dpu_block_ops += rows * cols * kb;
  }
  // A block step reads one block of A per used row and one of W per used column.
  const auto port_cycles = [&](const BlockFormat& f, std::int64_t lines, int banks, int bank_bytes) {
    if (banks == 0 || bank_bytes == 0) return std::int64_t{1};
    return std::max<std::int64_t>(1, ceil_div(lines * row_bytes(f, f.info().block).total(),
                                              static_cast<std::int64_t>(banks) * bank_bytes));
  };
  const int lanes = hw.dpu_lanes > 0 ? hw.dpu_lanes : a.info().block;
  const std::int64_t issue_cycles = hw.dpu_initiation_interval * ceil_div(a.info().block, lanes);
  st.cycles_per_block_step = std::max({issue_cycles, port_cycles(a, hw.rows, hw.a_banks, hw.a_bank_bytes),
                                       port_cycles(w, hw.cols, hw.w_banks, hw.w_bank_bytes)});
  const std::int64_t tile_compute = kb * st.cycles_per_block_step;
  std::int64_t cycles = load[0];
  st.stall_first_load = load[0];
  for (std::int64_t t = 0; t < st.tiles; ++t) {
    const std::int64_t compute = tile_compute + (t > 0 ? hw.dpu_clear_cycles : 0);
    const std::int64_t channel = load[t + 1] + (t > 0 ? store[t - 1] : 0);
    cycles += std::max(compute, channel);
    const std::int64_t exposed = std::max<std::int64_t>(0, channel - compute);
    const std::int64_t loading = std::min(exposed, load[t + 1]);
    st.stall_operand_load += loading;
    st.stall_result_store += exposed - loading;
  }
  cycles += hw.dpu_latency + store[st.tiles - 1];
  st.stall_result_store += store[st.tiles - 1];
  st.cycles = cycles;
  st.compute_cycles = st.tiles * tile_compute + (st.tiles - 1) * hw.dpu_clear_cycles + hw.dpu_latency;
  st.stall_sram_ports = st.tiles * kb * (st.cycles_per_block_step - issue_cycles);
  st.stall_cycles = st.cycles - st.compute_cycles;
  st.utilization = static_cast<double>(st.dpu_block_ops) /
                   (static_cast<double>(hw.rows) * hw.cols * static_cast<double>(st.cycles));
  return st;
}

Matrix functional_gemm(const HardwareConfig& hw, const QuantizedTensor& a, const QuantizedTensor& w,
                       int threads) {
  const ExactOperand ea(a), ew(w);
  Matrix c(a.rows, w.rows);
  const std::int64_t m_tiles = ceil_div(a.rows, hw.rows), n_tiles = ceil_div(w.rows, hw.cols);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<std::int64_t> next{0};
  const auto work = [&] {
    for (std::int64_t t = next++; t < m_tiles * n_tiles; t = next++) {
      const std::int64_t m0 = t / n_tiles * hw.rows, n0 = t % n_tiles * hw.cols;
      for (std::int64_t i = m0; i < std::min(a.rows, m0 + hw.rows); ++i) {
        for (std::int64_t j = n0; j < std::min(w.rows, n0 + hw.cols); ++j) {
          c.row(i)[j] = golden_dot(ea, i, ew, j);  // DPU (i - m0, j - n0) of this tile
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  return c;
}

}  // namespace nibble

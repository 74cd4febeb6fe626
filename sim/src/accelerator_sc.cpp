#include "nibble/sim/accelerator_sc.h"

#include <algorithm>

namespace nibble {

using sc_core::sc_time;

DramChannel::DramChannel(sc_core::sc_module_name name, const HardwareConfig& hw, sc_time cycle)
    : sc_module(name), hw_(hw), cycle_(cycle) {}

void DramChannel::transfer(std::int64_t bytes, sc_time& delay) {
  bytes_moved += bytes;
  delay += static_cast<double>(dram_cycles(hw_, bytes)) * cycle_;
}

SramBuffer::SramBuffer(sc_core::sc_module_name name, std::int64_t capacity)
    : sc_module(name), capacity_bytes(capacity) {}

DpuArray::DpuArray(sc_core::sc_module_name name, const HardwareConfig& hw, sc_time cycle)
    : sc_module(name), hw_(hw), cycle_(cycle) {}

void DpuArray::compute(std::int64_t blocks, std::int64_t cycles, sc_time& delay) {
  block_steps += blocks;
  delay += static_cast<double>(cycles) * cycle_;
}

void DpuArray::drain(sc_time& delay) { delay += static_cast<double>(hw_.dpu_latency) * cycle_; }

AcceleratorTop::AcceleratorTop(sc_core::sc_module_name name, const HardwareConfig& hw,
                               std::vector<GemmStats> schedule)
    : sc_module(name),
      cycle(1.0 / hw.clock_ghz, sc_core::SC_NS),
      hw(hw),
      dram("dram", hw, cycle),
      a_buffer("a_buffer", hw.a_buffer_bytes),
      w_buffer("w_buffer", hw.w_buffer_bytes),
      o_buffer("o_buffer", hw.o_buffer_bytes),
      array("array", hw, cycle),
      schedule_(std::move(schedule)) {
  SC_THREAD(run);
}

void AcceleratorTop::run() {
  const auto load = [&](const GemmStats::TileStep& step, sc_time& delay) {
    dram.transfer(step.load(), delay);
    a_buffer.write(step.a_load);
    w_buffer.write(step.w_load);
  };
  const auto store = [&](const GemmStats::TileStep& step, sc_time& delay) {
    o_buffer.read(step.results);
    dram.transfer(step.results, delay);
  };
  for (const GemmStats& g : schedule_) {
    const sc_time start = sc_core::sc_time_stamp();
    sc_time first = sc_core::SC_ZERO_TIME;
    load(g.schedule.front(), first);
    wait(first);
    for (size_t t = 0; t < g.schedule.size(); ++t) {
      const GemmStats::TileStep& step = g.schedule[t];
      sc_time compute = sc_core::SC_ZERO_TIME, channel = sc_core::SC_ZERO_TIME;
      a_buffer.read(step.a_read);
      w_buffer.read(step.w_read);
      array.compute(step.blocks, step.compute, compute);
      o_buffer.write(step.results);
      if (t + 1 < g.schedule.size()) load(g.schedule[t + 1], channel);
      if (t > 0) store(g.schedule[t - 1], channel);
      wait(std::max(compute, channel));  // double buffering: the slower of the two
    }
    sc_time tail = sc_core::SC_ZERO_TIME;
    array.drain(tail);
    store(g.schedule.back(), tail);
    wait(tail);
    gemm_cycles.push_back(static_cast<std::int64_t>((sc_core::sc_time_stamp() - start) / cycle + 0.5));
  }
}

}  // namespace nibble

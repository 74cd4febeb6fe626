#pragma once
// SCALE-Sim v3's SRAM buffer timing (word size 1 byte, half of each buffer active), modelled on
// what its Python classes compute rather than on addresses: each buffer keeps only the state its
// timing depends on.
#include <cstdint>
#include <deque>
#include <vector>

#include "dataflow.h"

namespace nibble::systolic {

// An ifmap or filter buffer: serves one demand row of requests arriving at `cycle` and returns
// the cycle it is served (cycle + 1 on a hit).
class ReadBuffer {
 public:
  virtual ~ReadBuffer() = default;
  virtual std::int64_t serve(std::int64_t cycle, const DemandBlock& block, std::int64_t t) = 0;
  virtual std::int64_t dram_start_cycle() const = 0;  // first DRAM response (negative: prefetch)
};

// USER bandwidth mode (read_buffer.py). The operand is prefetched in `order`, cut into lines of
// ceil(words / 100) elements; the active half holds a window of lines. A request outside the
// window slides it by one prefetch buffer's worth of lines, which the DRAM delivers
// ceil(prefetch words / bandwidth) + 1 cycles after the previous prefetch completed; requests
// wait for it.
class PrefetchingReadBuffer final : public ReadBuffer {
 public:
  PrefetchingReadBuffer(const PrefetchOrder& order, std::int64_t sram_words, int words_per_cycle);
  std::int64_t serve(std::int64_t cycle, const DemandBlock& block, std::int64_t t) override;
  std::int64_t dram_start_cycle() const override { return dram_start_; }

 private:
  bool in_window(std::int64_t line) const;

  std::vector<std::uint32_t> line_of_;  // element -> line of the prefetch order
  std::int64_t lines_ = 0, active_lines_ = 0, prefetch_lines_ = 0;
  std::int64_t window_begin_ = 0, window_end_ = 0;
  std::int64_t first_fill_requests_ = 0;  // DRAM request rows that fill the active half
  std::int64_t refill_requests_ = 0;      // DRAM request rows of one prefetch
  std::int64_t last_prefetch_cycle_ = 0;
  std::int64_t dram_start_ = 0;
  bool filled_ = false;
};

// CALC bandwidth mode (read_buffer_estimate_bw.py): the interface bandwidth is whatever keeps
// the array fed, so reads never stall; only where the first DRAM read lands matters. The first
// fill moves min(all, half the buffer) at 10 words per cycle, ending just before the first
// request (or, when the operand fits in the active half, just before cycle 0).
class EstimatedReadBuffer final : public ReadBuffer {
 public:
  EstimatedReadBuffer(std::int64_t operand_elements, std::int64_t sram_words);
  std::int64_t serve(std::int64_t cycle, const DemandBlock& block, std::int64_t t) override;
  std::int64_t dram_start_cycle() const override;

 private:
  std::int64_t elements_ = 0, words_per_set_ = 0;
  std::int64_t first_request_cycle_ = -1;
};

// The ofmap buffer (write_buffer.py): outputs fill it; once more than its drain half is
// occupied it writes ceil(drain words / bandwidth) lines to DRAM, one line a cycle. A write
// into a full buffer waits for the running drain.
class DrainingWriteBuffer {
 public:
  DrainingWriteBuffer(std::int64_t sram_words, int words_per_cycle);
  // `outputs` results written in the demand row arriving at `cycle`; returns the cycle they are
  // accepted.
  std::int64_t serve(std::int64_t cycle, std::int64_t outputs);
  // Drains everything left, starting at `cycle`.
  void finish(std::int64_t cycle);
  std::int64_t dram_start_cycle() const { return dram_start_; }
  std::int64_t dram_stop_cycle() const { return dram_stop_; }
  std::int64_t dram_writes() const { return dram_writes_; }

 private:
  void close_line();
  std::int64_t drain(std::int64_t start_cycle);

  std::int64_t words_ = 0, active_words_ = 0, lines_per_drain_ = 0;
  int line_words_ = 0;
  std::int64_t free_words_ = 0;
  std::deque<int> pending_lines_;  // words in each line not yet drained
  int open_line_words_ = 0;
  std::int64_t drain_end_cycle_ = 0;
  std::int64_t dram_start_ = INT64_MAX, dram_stop_ = INT64_MIN, dram_writes_ = 0;
};

}  // namespace nibble::systolic

#include "buffers.h"

#include <algorithm>
#include <limits>

#include "nibble/models/error.h"

namespace nibble::systolic {
namespace {

// SCALE-Sim splits every buffer in two halves: ceil(words / 2) active, the rest prefetch/drain.
std::int64_t active_half(std::int64_t words) { return ceil_div(words, 2); }

// Calls visit(element) for every used slot of `order`, in prefetch order.
template <typename Visit>
void walk(const PrefetchOrder& order, Visit&& visit) {
  const auto slot = [&](std::int64_t stacked_row, std::int64_t c) {
    const std::int64_t f = stacked_row / order.rows, r = stacked_row % order.rows;
    if (c < used_width(f, order.width, order.extent)) {
      visit(f * order.fold_stride + r * order.row_stride + c * order.col_stride);
    }
  };
  const std::int64_t height = order.folds * order.rows;
  if (!order.diagonal) {
    for (std::int64_t row = 0; row < height; ++row) {
      for (int c = 0; c < order.width; ++c) slot(row, c);
    }
    return;
  }
  // Anti-diagonal d holds slots (row, d - row), visited from the bottom row up.
  for (std::int64_t d = 0; d < height + order.width - 1; ++d) {
    const std::int64_t top = std::max<std::int64_t>(0, d - order.width + 1);
    for (std::int64_t row = std::min(d, height - 1); row >= top; --row) slot(row, d - row);
  }
}

}  // namespace

PrefetchingReadBuffer::PrefetchingReadBuffer(const PrefetchOrder& order, std::int64_t sram_words,
                                             int words_per_cycle) {
  const std::int64_t active = active_half(sram_words), prefetch = sram_words - active;
  const std::int64_t words_per_line = ceil_div(sram_words, 100);
  if (order.elements / words_per_line >= std::numeric_limits<std::uint32_t>::max()) {
    throw Error("systolic: operand of " + std::to_string(order.elements) + " elements is too large");
  }
  line_of_.assign(static_cast<size_t>(order.elements), 0);
  std::int64_t position = 0;
  walk(order, [&](std::int64_t element) {
    line_of_[static_cast<size_t>(element)] = static_cast<std::uint32_t>(position++ / words_per_line);
  });
  // The last line is always counted, even when the elements filled the one before exactly.
  lines_ = position / words_per_line + 1;
  active_lines_ = std::min(lines_, ceil_div(active, words_per_line));
  prefetch_lines_ = std::min(lines_ - active_lines_, ceil_div(prefetch, words_per_line));
  window_end_ = active_lines_;
  // DRAM requests are rows of `words_per_cycle` slots of the prefetch order, padding included.
  const std::int64_t request_rows = ceil_div(order.folds * order.rows * order.width, words_per_cycle);
  first_fill_requests_ = std::min(ceil_div(active, words_per_cycle), request_rows);
  refill_requests_ = ceil_div(prefetch, words_per_cycle);
}

bool PrefetchingReadBuffer::in_window(std::int64_t line) const {
  if (window_begin_ < window_end_) return line >= window_begin_ && line < window_end_;
  return line >= window_begin_ || line < window_end_;  // wrapped (or, begin == end, everything)
}

std::int64_t PrefetchingReadBuffer::serve(std::int64_t cycle, const DemandBlock& block,
                                          std::int64_t t) {
  if (!filled_) {
    // The active half arrives one request row a cycle, the last one just before `cycle`.
    filled_ = true;
    last_prefetch_cycle_ = cycle - 1;
    dram_start_ = cycle - first_fill_requests_;
  }
  std::int64_t offset = 1;  // hit latency
  const auto [begin, end] = block.columns_at(t);
  for (int c = begin; c < end; ++c) {
    const std::int64_t line = line_of_[static_cast<size_t>(block.element(t, c))];
    while (!in_window(line)) {
      window_begin_ = (window_begin_ + prefetch_lines_) % lines_;
      window_end_ = (window_begin_ + active_lines_) % lines_;
      last_prefetch_cycle_ += refill_requests_ + 1;
      // SCALE-Sim adds the wait twice when it is positive and also subtracts it when negative
      // (a request can then be served before cycle + 1); reproduced as it is.
      const std::int64_t wait = last_prefetch_cycle_ - (cycle + offset);
      offset += wait;
      if (wait > 0) offset += wait;
    }
  }
  return cycle + offset;
}

EstimatedReadBuffer::EstimatedReadBuffer(std::int64_t operand_elements, std::int64_t sram_words)
    : elements_(operand_elements), words_per_set_(sram_words / 100) {
  if (words_per_set_ == 0) throw Error("systolic: CALC mode needs SRAMs of at least 100 bytes");
}

std::int64_t EstimatedReadBuffer::serve(std::int64_t cycle, const DemandBlock& block,
                                        std::int64_t t) {
  const auto [begin, end] = block.columns_at(t);
  if (first_request_cycle_ < 0 && begin < end) first_request_cycle_ = cycle;
  return cycle + 1;
}

std::int64_t EstimatedReadBuffer::dram_start_cycle() const {
  constexpr std::int64_t kSets = 50, kWordsPerCycle = 10;  // half of 100 sets; default bandwidth
  if (elements_ >= kSets * words_per_set_) {
    return first_request_cycle_ - ceil_div(kSets * words_per_set_, kWordsPerCycle);
  }
  return -ceil_div(ceil_div(elements_, words_per_set_) * words_per_set_, kWordsPerCycle);
}

DrainingWriteBuffer::DrainingWriteBuffer(std::int64_t sram_words, int words_per_cycle)
    : words_(sram_words),
      active_words_(active_half(sram_words)),
      lines_per_drain_(ceil_div(sram_words - active_half(sram_words), words_per_cycle)),
      line_words_(words_per_cycle),
      free_words_(sram_words) {}

void DrainingWriteBuffer::close_line() {
  if (open_line_words_ > 0) pending_lines_.push_back(open_line_words_);
  open_line_words_ = 0;
}

std::int64_t DrainingWriteBuffer::drain(std::int64_t start_cycle) {
  const std::int64_t lines =
      std::min<std::int64_t>(lines_per_drain_, static_cast<std::int64_t>(pending_lines_.size()));
  // SCALE-Sim counts every drained line as full except the last one.
  std::int64_t words = 0;
  for (std::int64_t i = 0; i < lines; ++i) {
    words += (i + 1 < lines) ? line_words_ : pending_lines_.front();
    pending_lines_.pop_front();
  }
  free_words_ += words;
  dram_writes_ += words;
  const std::int64_t end_cycle = start_cycle + lines - 1;  // one line a cycle, no write latency
  dram_start_ = std::min(dram_start_, start_cycle);
  dram_stop_ = std::max(dram_stop_, end_cycle);
  return end_cycle;
}

std::int64_t DrainingWriteBuffer::serve(std::int64_t cycle, std::int64_t outputs) {
  std::int64_t current = cycle;
  for (std::int64_t i = 0; i < outputs; ++i) {
    --free_words_;
    if (++open_line_words_ == line_words_) close_line();
    if (current < drain_end_cycle_) {
      if (free_words_ <= 0) current = drain_end_cycle_;
    } else if (free_words_ < active_words_) {
      close_line();
      drain_end_cycle_ = drain(current);
    }
  }
  return current;
}

void DrainingWriteBuffer::finish(std::int64_t cycle) {
  close_line();
  while (!pending_lines_.empty()) cycle = drain(cycle) + 1;
}

}  // namespace nibble::systolic

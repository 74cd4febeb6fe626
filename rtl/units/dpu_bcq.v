// BCQ block dot-product unit: one pair of block arrays (LA scalars, one UE4M3 scale each) per
// cycle (II = 1), FP32 accumulator. Each block of LB scalars carries a selector that picks one
// of NC codebooks; each scalar a 4-bit index into it. The codebooks live in two loadable
// register files (A and B), NC x 16 signed entries of EB bits, written one entry per cycle.
//
//   partial = s_a * s_b * sum_i book_a[sel_a(i)][idx_a(i)] * book_b[sel_b(i)][idx_b(i)]
//
// UE4M3 scales as in dpu_nv; the per-tensor FP32 scale is applied outside the unit. Indices
// and selectors are packed LSB first (nibble's storage: elements and aux). Latency as dpu_mx.
//
// BOOK_READ: how the entries are read. 1 (default): one codebook row (16 entries) per LB-block
// is selected by the block's selector, and each lane picks its entry from that row (an NC-way
// row mux per block, a 16-way entry mux per lane). 0: each lane selects its entry from the
// whole register file (an NC x 16-way mux per lane); the same numbers at several times the area.
module dpu_bcq #(
  parameter LB = 8,
  parameter LA = 64,
  parameter NC = 16,
  parameter EB = 6,
  parameter BOOK_READ = 1,
  parameter PIPE_STAGES = 0,  // 0 or 1 (dpu_backend)
  // Derived; do not override.
  parameter SELB = (NC <= 2) ? 1 : $clog2(NC),
  parameter NSEL = LA / LB
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  input  wire                 clear_i,
  input  wire                 valid_i,
  input  wire [LA*4-1:0]      a_i,        // indices
  input  wire [LA*4-1:0]      b_i,
  input  wire [NSEL*SELB-1:0] a_sel_i,    // selectors
  input  wire [NSEL*SELB-1:0] b_sel_i,
  input  wire [elem_storage_bits(FMT_UE4M3)-1:0] a_scale_i,  // UE4M3 in the low 7 bits
  input  wire [elem_storage_bits(FMT_UE4M3)-1:0] b_scale_i,
  input  wire                 cb_we_i,    // codebook write: side (0 A, 1 B), book * 16 + index
  input  wire                 cb_side_i,
  input  wire [SELB+3:0]      cb_addr_i,
  input  wire [EB-1:0]        cb_data_i,
  output wire [31:0]          acc_o
);
`include "nibble_formats.vh"

  localparam LATENCY /*verilator public*/ = dpu_latency(PIPE_STAGES);

  localparam EW = 8;
  localparam SUMW = 2 * EB + $clog2(LA) + 1;
  localparam MW = elem_sig_bits(FMT_UE4M3) + 1;  // signed scale significand
  localparam SW = SUMW + 2 * MW;

  reg [EB-1:0] books_a [0:NC*16-1];
  reg [EB-1:0] books_b [0:NC*16-1];
  always @(posedge clk_i) begin
    if (cb_we_i && !cb_side_i) books_a[cb_addr_i] <= cb_data_i;
    if (cb_we_i && cb_side_i) books_b[cb_addr_i] <= cb_data_i;
  end

  // ---- stage 1: codebook lookups, exact sum, scales ---------------------------------------
  reg signed [SUMW-1:0] block_sum;
  reg signed [EB-1:0]   a_entry, b_entry;
  reg signed [2*EB-1:0] product;
  reg        [16*EB-1:0] a_row, b_row;  // the block's codebook rows (BOOK_READ = 1)
  reg        [3:0]       k;
  integer i, j;
  always @* begin
    block_sum = 0;
    a_row = 0;
    b_row = 0;
    for (i = 0; i < LA; i = i + 1) begin
      if (BOOK_READ == 1) begin
        if (i % LB == 0) begin
          for (j = 0; j < 16; j = j + 1) begin
            k = j;
            a_row[j*EB +: EB] = books_a[{a_sel_i[(i / LB) * SELB +: SELB], k}];
            b_row[j*EB +: EB] = books_b[{b_sel_i[(i / LB) * SELB +: SELB], k}];
          end
        end
        a_entry = a_row[a_i[i*4 +: 4] * EB +: EB];
        b_entry = b_row[b_i[i*4 +: 4] * EB +: EB];
      end else begin
        a_entry = books_a[{a_sel_i[(i / LB) * SELB +: SELB], a_i[i*4 +: 4]}];
        b_entry = books_b[{b_sel_i[(i / LB) * SELB +: SELB], b_i[i*4 +: 4]}];
      end
      product = a_entry * b_entry;
      block_sum = block_sum + product;
    end
  end

  wire signed [MW-1:0] a_m, b_m;
  wire signed [EW-1:0] a_exp, b_exp;
  wire a_nan, b_nan;
  scale_decode #(.FMT(FMT_UE4M3)) a_scale (.code_i(a_scale_i), .significand_o(a_m), .exponent_o(a_exp), .nan_o(a_nan));
  scale_decode #(.FMT(FMT_UE4M3)) b_scale (.code_i(b_scale_i), .significand_o(b_m), .exponent_o(b_exp), .nan_o(b_nan));
  wire signed [SW-1:0] partial_sum = block_sum * a_m * b_m;

  dpu_backend #(.SW(SW), .EW(EW), .PIPE_STAGES(PIPE_STAGES)) backend (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .valid_i(valid_i),
    .sum_i(partial_sum), .exp_i(a_exp + b_exp), .nan_i(a_nan || b_nan), .acc_o(acc_o));
endmodule

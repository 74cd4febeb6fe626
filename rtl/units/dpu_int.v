// Integer-group block dot-product unit: GROUP pairs of INT4 or INT8 elements (symmetric
// groups) with FP16 group scales per cycle (II = 1), FP32 accumulator.
//
//   FP16 s = +-(1024 + m) * 2^(e - 25) for 0 < e < 31,  +-m * 2^-24 for e = 0;  e = 31 is NaN
//   partial = s_a * s_b * sum_i a_i * b_i     exact: (sum * m_a * m_b) * 2^(e_a + e_b)
//
// ELEM: 6 INT4 or 7 INT8, both operands. Latency as dpu_mx.
module dpu_int #(
  parameter GROUP = 32,
  parameter ELEM  = 6,
  // Derived; do not override.
  parameter BITS  = (ELEM == 6) ? 4 : 8
) (
  input  wire                  clk_i,
  input  wire                  rst_ni,
  input  wire                  clear_i,
  input  wire                  valid_i,
  input  wire [GROUP*BITS-1:0] a_i,
  input  wire [GROUP*BITS-1:0] b_i,
  input  wire [15:0]           a_scale_i,  // FP16
  input  wire [15:0]           b_scale_i,
  output wire [31:0]           acc_o
);
`include "nibble_formats.vh"

  localparam EW = 8;
  localparam SUMW = block_sum_width(ELEM, ELEM, GROUP);
  localparam SW = SUMW + 24;  // times two signed 11-bit significands

  // ---- stage 1: exact sum, scale significands and exponents -------------------------------
  wire signed [SUMW-1:0] block_sum;
  block_sum #(.BLOCK(GROUP), .A_FMT(ELEM), .B_FMT(ELEM)) products (
    .a_i(a_i), .b_i(b_i), .sum_o(block_sum));

  wire [4:0] a_e = a_scale_i[14:10], b_e = b_scale_i[14:10];
  wire signed [12:0] a_mag = {2'b00, a_e != 0, a_scale_i[9:0]};
  wire signed [12:0] b_mag = {2'b00, b_e != 0, b_scale_i[9:0]};
  wire signed [12:0] a_m = a_scale_i[15] ? -a_mag : a_mag;
  wire signed [12:0] b_m = b_scale_i[15] ? -b_mag : b_mag;
  wire signed [EW-1:0] a_exp = (a_e != 0) ? $signed({3'd0, a_e}) - 25 : -24;
  wire signed [EW-1:0] b_exp = (b_e != 0) ? $signed({3'd0, b_e}) - 25 : -24;

  reg signed [SW-1:0] sum_q;
  reg signed [EW-1:0] exp_q;
  reg                 nan_q, valid_q;
  always @(posedge clk_i) begin
    if (!rst_ni) valid_q <= 1'b0;
    else begin
      valid_q <= valid_i;
      sum_q   <= block_sum * a_m * b_m;
      exp_q   <= a_exp + b_exp;
      nan_q   <= a_e == 5'd31 || b_e == 5'd31;
    end
  end

  dpu_backend #(.SW(SW), .EW(EW)) backend (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .valid_i(valid_q),
    .sum_i(sum_q), .exp_i(exp_q), .nan_i(nan_q), .acc_o(acc_o));
endmodule

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
  parameter PIPE_STAGES = 0  // 0 or 1 (dpu_backend)
) (
  input  wire                  clk_i,
  input  wire                  rst_ni,
  input  wire                  clear_i,
  input  wire                  valid_i,
  input  wire [GROUP*elem_bits(ELEM)-1:0]    a_i,
  input  wire [GROUP*elem_bits(ELEM)-1:0]    b_i,
  input  wire [elem_storage_bits(FMT_FP16)-1:0] a_scale_i,
  input  wire [elem_storage_bits(FMT_FP16)-1:0] b_scale_i,
  output wire [31:0]                         acc_o
);
`include "nibble_formats.vh"

  localparam LATENCY /*verilator public*/ = dpu_latency(PIPE_STAGES);

  localparam EW = 8;
  localparam SUMW = block_sum_width(ELEM, ELEM, GROUP);
  localparam MW = elem_sig_bits(FMT_FP16) + 1;  // signed scale significand
  localparam SW = SUMW + 2 * MW;

  // ---- stage 1: exact sum, scale significands and exponents -------------------------------
  wire signed [SUMW-1:0] block_sum;
  block_sum #(.BLOCK(GROUP), .A_FMT(ELEM), .B_FMT(ELEM)) products (
    .a_i(a_i), .b_i(b_i), .sum_o(block_sum));

  wire signed [MW-1:0] a_m, b_m;
  wire signed [EW-1:0] a_exp, b_exp;
  wire a_nan, b_nan;
  scale_decode #(.FMT(FMT_FP16)) a_scale (.code_i(a_scale_i), .significand_o(a_m), .exponent_o(a_exp), .nan_o(a_nan));
  scale_decode #(.FMT(FMT_FP16)) b_scale (.code_i(b_scale_i), .significand_o(b_m), .exponent_o(b_exp), .nan_o(b_nan));
  wire signed [SW-1:0] partial_sum = block_sum * a_m * b_m;

  dpu_backend #(.SW(SW), .EW(EW), .PIPE_STAGES(PIPE_STAGES)) backend (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .valid_i(valid_i),
    .sum_i(partial_sum), .exp_i(a_exp + b_exp), .nan_i(a_nan || b_nan), .acc_o(acc_o));
endmodule

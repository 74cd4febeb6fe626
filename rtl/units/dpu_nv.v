// NVFP4 / NVINT4 block dot-product unit: BLOCK (16) element pairs with UE4M3 block scales per
// cycle (II = 1), FP32 accumulator. The per-tensor FP32 scales are applied outside the unit,
// as in the golden model (acc_o is the accumulator before them).
//
//   UE4M3 s = (8 + m) * 2^(e - 10) for e > 0,  m * 2^-9 for e = 0;  0x7F is NaN
//   partial = s_a * s_b * sum_i dec(a_i) * dec(b_i)     exact: (sum * m_a * m_b) * 2^(e_a + e_b + ...)
//
// ELEM: 0 E2M1 (NVFP4) or 6 INT4 (NVINT4), both operands. Latency as dpu_mx: a block is in
// acc_o two clock edges after the edge that samples it.
module dpu_nv #(
  parameter BLOCK = 16,
  parameter ELEM  = 0
) (
  input  wire               clk_i,
  input  wire               rst_ni,
  input  wire               clear_i,
  input  wire               valid_i,
  input  wire [BLOCK*4-1:0] a_i,
  input  wire [BLOCK*4-1:0] b_i,
  input  wire [7:0]         a_scale_i,  // UE4M3 in the low 7 bits
  input  wire [7:0]         b_scale_i,
  output wire [31:0]        acc_o
);
`include "nibble_formats.vh"

  localparam EW = 8;
  localparam SUMW = block_sum_width(ELEM, ELEM, BLOCK);
  localparam SW = SUMW + 10;  // times two 4-bit scale significands (+ sign)

  // ---- stage 1: exact sum, scale significands and exponents -------------------------------
  wire signed [SUMW-1:0] block_sum;
  block_sum #(.BLOCK(BLOCK), .A_FMT(ELEM), .B_FMT(ELEM)) products (
    .a_i(a_i), .b_i(b_i), .sum_o(block_sum));

  wire signed [5:0] a_m, b_m;
  wire signed [EW-1:0] a_exp, b_exp;
  wire a_nan, b_nan;
  scale_ue4m3 a_scale (.code_i(a_scale_i), .significand_o(a_m), .exponent_o(a_exp), .nan_o(a_nan));
  scale_ue4m3 b_scale (.code_i(b_scale_i), .significand_o(b_m), .exponent_o(b_exp), .nan_o(b_nan));
  wire signed [SW-1:0] partial_sum = block_sum * a_m * b_m;
  wire signed [EW-1:0] partial_exp = a_exp + b_exp + 2 * elem_exponent(ELEM);

  dpu_backend #(.SW(SW), .EW(EW)) backend (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .valid_i(valid_i),
    .sum_i(partial_sum), .exp_i(partial_exp), .nan_i(a_nan || b_nan), .acc_o(acc_o));
endmodule

// NVFP4 / NVINT4 block dot-product unit: BLOCK (16) element pairs with UE4M3 block scales per
// cycle (II = 1), FP32 accumulator. The per-tensor FP32 scales are applied outside the unit,
// as in the golden model (acc_o is the accumulator before them).
//
//   UE4M3 s = (8 + m) * 2^(e - 10) for e > 0,  m * 2^-9 for e = 0;  0x7F is NaN
//   partial = s_a * s_b * sum_i dec(a_i) * dec(b_i)     exact: (sum * m_a * m_b) * 2^(e_a + e_b + ...)
//
// ELEM: 0 E2M1 (NVFP4) or 6 INT4 (NVINT4), both operands. Latency as dpu_mx.
module dpu_nv #(
  parameter BLOCK = 16,
  parameter ELEM  = 0,
  parameter PIPE_STAGES = 0  // 0 or 1 (dpu_backend)
) (
  input  wire               clk_i,
  input  wire               rst_ni,
  input  wire               clear_i,
  input  wire               valid_i,
  input  wire [BLOCK*elem_bits(ELEM)-1:0]    a_i,
  input  wire [BLOCK*elem_bits(ELEM)-1:0]    b_i,
  input  wire [elem_storage_bits(FMT_UE4M3)-1:0] a_scale_i,  // UE4M3 in the low 7 bits
  input  wire [elem_storage_bits(FMT_UE4M3)-1:0] b_scale_i,
  output wire [31:0]                         acc_o
);
`include "nibble_formats.vh"

  localparam LATENCY /*verilator public*/ = dpu_latency(PIPE_STAGES);

  localparam EW = 8;
  localparam SUMW = block_sum_width(ELEM, ELEM, BLOCK);
  localparam MW = elem_sig_bits(FMT_UE4M3) + 1;  // signed scale significand
  localparam SW = SUMW + 2 * MW;

  // ---- stage 1: exact sum, scale significands and exponents -------------------------------
  wire signed [SUMW-1:0] block_sum;
  block_sum #(.BLOCK(BLOCK), .A_FMT(ELEM), .B_FMT(ELEM)) products (
    .a_i(a_i), .b_i(b_i), .sum_o(block_sum));

  wire signed [MW-1:0] a_m, b_m;
  wire signed [EW-1:0] a_exp, b_exp;
  wire a_nan, b_nan;
  scale_decode #(.FMT(FMT_UE4M3)) a_scale (.code_i(a_scale_i), .significand_o(a_m), .exponent_o(a_exp), .nan_o(a_nan));
  scale_decode #(.FMT(FMT_UE4M3)) b_scale (.code_i(b_scale_i), .significand_o(b_m), .exponent_o(b_exp), .nan_o(b_nan));
  wire signed [SW-1:0] partial_sum = block_sum * a_m * b_m;
  wire signed [EW-1:0] partial_exp = a_exp + b_exp + 2 * elem_exponent(ELEM);

  dpu_backend #(.SW(SW), .EW(EW), .PIPE_STAGES(PIPE_STAGES)) backend (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .valid_i(valid_i),
    .sum_i(partial_sum), .exp_i(partial_exp), .nan_i(a_nan || b_nan), .acc_o(acc_o));
endmodule

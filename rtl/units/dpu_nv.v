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

  wire [3:0] a_e = a_scale_i[6:3], b_e = b_scale_i[6:3];
  wire signed [5:0] a_m = {2'b00, a_e != 0, a_scale_i[2:0]};
  wire signed [5:0] b_m = {2'b00, b_e != 0, b_scale_i[2:0]};
  wire signed [EW-1:0] a_exp = (a_e != 0) ? $signed({4'd0, a_e}) - 10 : -9;
  wire signed [EW-1:0] b_exp = (b_e != 0) ? $signed({4'd0, b_e}) - 10 : -9;

  reg signed [SW-1:0] sum_q;
  reg signed [EW-1:0] exp_q;
  reg                 nan_q, valid_q;
  always @(posedge clk_i) begin
    if (!rst_ni) valid_q <= 1'b0;
    else begin
      valid_q <= valid_i;
      sum_q   <= block_sum * a_m * b_m;
      exp_q   <= a_exp + b_exp + 2 * elem_exponent(ELEM);
      nan_q   <= a_scale_i[6:0] == 7'h7F || b_scale_i[6:0] == 7'h7F;
    end
  end

  dpu_backend #(.SW(SW), .EW(EW)) backend (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .valid_i(valid_q),
    .sum_i(sum_q), .exp_i(exp_q), .nan_i(nan_q), .acc_o(acc_o));
endmodule

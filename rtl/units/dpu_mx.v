// MX block dot-product unit: one pair of BLOCK-element blocks with E8M0 scales per cycle
// (II = 1), FP32 accumulator. It computes the golden dot product of DESIGN.md exactly:
//
//   partial = 2^(sa - 127) * 2^(sb - 127) * sum_i dec(a_i) * dec(b_i)     exact integer sum
//   acc     = fp32_add_rne(acc, fp32_rne(partial))
//
// Element formats by parameter (ids in nibble_formats.vh), A and B may differ. Codes are
// packed LSB first, element i at bits [i*bits +: bits], the layout of nibble's QuantizedTensor.
// A scale of 0xFF (NaN) makes the partial, and from then on the accumulator, NaN.
//
// Latency: a block presented with valid_i before clock edge k is in acc_o after edge
// k + LATENCY, LATENCY = dpu_latency(PIPE_STAGES) = 2 + PIPE_STAGES (stage 1: decode, multiply,
// adder tree; stage 2: FP32 rounding, cut in two by PIPE_STAGES = 1; stage 3: accumulate).
// clear_i zeroes the accumulator (issue it while the pipeline is empty).
module dpu_mx #(
  parameter BLOCK  = 32,
  parameter A_FMT  = 0,
  parameter B_FMT  = 0,
  parameter PIPE_STAGES = 0  // 0 or 1 (dpu_backend)
) (
  input  wire                    clk_i,
  input  wire                    rst_ni,
  input  wire                    clear_i,
  input  wire                    valid_i,
  input  wire [BLOCK*elem_bits(A_FMT)-1:0] a_i,
  input  wire [BLOCK*elem_bits(B_FMT)-1:0] b_i,
  input  wire [elem_bits(FMT_E8M0)-1:0]    a_scale_i,
  input  wire [elem_bits(FMT_E8M0)-1:0]    b_scale_i,
  output wire [31:0]                       acc_o
);
`include "nibble_formats.vh"

  localparam LATENCY /*verilator public*/ = dpu_latency(PIPE_STAGES);

  // ---- stage 1: decode, multiply, exact sum ---------------------------------------------
  localparam EW = 11;  // partial exponent: [-286, 254]
  localparam signed [EW-1:0] ELEM_EXP = elem_exponent(A_FMT) + elem_exponent(B_FMT) +
                                        2 * elem_exponent(FMT_E8M0);
  localparam SW = block_sum_width(A_FMT, B_FMT, BLOCK);
  wire signed [SW-1:0] block_sum;
  block_sum #(.BLOCK(BLOCK), .A_FMT(A_FMT), .B_FMT(B_FMT)) products (
    .a_i(a_i), .b_i(b_i), .sum_o(block_sum));
  wire signed [EW-1:0] partial_exp =
      $signed({3'b000, a_scale_i}) + $signed({3'b000, b_scale_i}) + ELEM_EXP;
  localparam [7:0] E8M0_NAN = (1 << elem_bits(FMT_E8M0)) - 1;

  dpu_backend #(.SW(SW), .EW(EW), .PIPE_STAGES(PIPE_STAGES)) backend (
    .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(clear_i), .valid_i(valid_i),
    .sum_i(block_sum), .exp_i(partial_exp), .nan_i(a_scale_i == E8M0_NAN || b_scale_i == E8M0_NAN), .acc_o(acc_o));
endmodule

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
// Latency: a block presented with valid_i before clock edge k is in acc_o after edge k + 2
// (stage 1: decode, multiply, adder tree; stage 2: FP32 rounding; stage 3: accumulate).
// clear_i zeroes the accumulator (issue it while the pipeline is empty).
module dpu_mx #(
  parameter BLOCK  = 32,
  parameter A_FMT  = 0,
  parameter B_FMT  = 0,
  // Derived; do not override.
  parameter A_BITS = (A_FMT == 0) ? 4 : (A_FMT == 1 || A_FMT == 2) ? 6 : 8,
  parameter B_BITS = (B_FMT == 0) ? 4 : (B_FMT == 1 || B_FMT == 2) ? 6 : 8
) (
  input  wire                    clk_i,
  input  wire                    rst_ni,
  input  wire                    clear_i,
  input  wire                    valid_i,
  input  wire [BLOCK*A_BITS-1:0] a_i,
  input  wire [BLOCK*B_BITS-1:0] b_i,
  input  wire [7:0]              a_scale_i,
  input  wire [7:0]              b_scale_i,
  output reg  [31:0]             acc_o
);
`include "nibble_formats.vh"

  // Signed integer of an element code, in units of 2^elem_exponent(fmt).
  function signed [33:0] decode;
    input integer fmt;
    input [7:0] code;
    integer eb, mb;
    reg [7:0] e, m;
    reg signed [33:0] magnitude;
    begin
      eb = elem_exp_bits(fmt);
      mb = elem_man_bits(fmt);
      if (fmt == 5) begin
        decode = {{26{code[7]}}, code};
      end else begin
        e = (code >> mb) & ((1 << eb) - 1);
        m = code & ((1 << mb) - 1);
        magnitude = (e == 0) ? {26'd0, m} : ({26'd0, m} + (34'sd1 <<< mb)) <<< (e - 1);
        decode = code[eb + mb] ? -magnitude : magnitude;
      end
    end
  endfunction

  localparam AW = elem_int_bits(A_FMT);
  localparam BW = elem_int_bits(B_FMT);
  localparam SW = AW + BW + $clog2(BLOCK) + 1;  // exact block sum
  localparam EW = 11;                            // partial exponent: [-286, 254]
  localparam signed [EW-1:0] ELEM_EXP = elem_exponent(A_FMT) + elem_exponent(B_FMT) - 254;

  // ---- stage 1: decode, multiply, exact sum ---------------------------------------------
  reg signed [SW-1:0] block_sum;
  reg signed [AW-1:0] a_int;
  reg signed [BW-1:0] b_int;
  integer i;
  always @* begin
    block_sum = 0;
    for (i = 0; i < BLOCK; i = i + 1) begin
      a_int = decode(A_FMT, {{(8 - A_BITS){1'b0}}, a_i[i*A_BITS +: A_BITS]});
      b_int = decode(B_FMT, {{(8 - B_BITS){1'b0}}, b_i[i*B_BITS +: B_BITS]});
      block_sum = block_sum + a_int * b_int;
    end
  end

  reg signed [SW-1:0] sum_q;
  reg signed [EW-1:0] exp_q;
  reg                 nan_q, valid_q;
  always @(posedge clk_i) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
    end else begin
      valid_q <= valid_i;
      sum_q   <= block_sum;
      exp_q   <= $signed({3'b000, a_scale_i}) + $signed({3'b000, b_scale_i}) + ELEM_EXP;
      nan_q   <= a_scale_i == 8'hFF || b_scale_i == 8'hFF;
    end
  end

  // ---- stage 2: round the exact partial to FP32 ------------------------------------------
  wire [31:0] partial;
  fp32_from_fixed #(.W(SW), .EW(EW)) round_partial (
    .value_i(sum_q), .exp_i(exp_q), .nan_i(nan_q), .fp32_o(partial));

  reg [31:0] partial_q;
  reg        partial_valid_q;
  always @(posedge clk_i) begin
    if (!rst_ni) partial_valid_q <= 1'b0;
    else begin
      partial_valid_q <= valid_q;
      partial_q       <= partial;
    end
  end

  // ---- stage 3: accumulate in K order -------------------------------------------------------
  wire [31:0] acc_next;
  fp32_add accumulate (.a_i(acc_o), .b_i(partial_q), .sum_o(acc_next));
  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) acc_o <= 32'd0;
    else if (partial_valid_q) acc_o <= acc_next;
  end
endmodule

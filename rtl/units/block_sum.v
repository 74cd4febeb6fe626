// Exact sum of BLOCK element products, in units of 2^(elem_exponent(A_FMT) + elem_exponent(B_FMT))
// (nibble_formats.vh), added without rounding. Each lane multiplies the two operands'
// magnitudes (significands for a LANE_SHIFT format, whole integers for LANE_INTEGER), applies
// the product's sign and shifts it left by the operands' exponent shifts into the adder tree.
// Codes are packed LSB first, element i at bits [i*bits +: bits] (nibble's storage layout).
module block_sum #(
  parameter BLOCK = 32,
  parameter A_FMT = 0,
  parameter B_FMT = 0
) (
  input  wire [BLOCK*elem_bits(A_FMT)-1:0]                a_i,
  input  wire [BLOCK*elem_bits(B_FMT)-1:0]                b_i,
  output reg  signed [block_sum_width(A_FMT, B_FMT, BLOCK)-1:0] sum_o
);
`include "nibble_formats.vh"

  localparam A_BITS = elem_bits(A_FMT);
  localparam B_BITS = elem_bits(B_FMT);
  localparam AMW = lane_magnitude_bits(A_FMT);
  localparam BMW = lane_magnitude_bits(B_FMT);
  localparam KW = $clog2(lane_max_shift(A_FMT) + lane_max_shift(B_FMT) + 2);
  localparam PW = lane_product_bits(A_FMT, B_FMT);

  reg        [AMW-1:0]     a_mag;
  reg        [BMW-1:0]     b_mag;
  reg        [AMW+BMW-1:0] mag;
  reg signed [AMW+BMW:0]   signed_product;
  reg        [KW-1:0]      shift;
  reg signed [PW-1:0]      product;
  integer i;
  always @* begin
    sum_o = 0;
    for (i = 0; i < BLOCK; i = i + 1) begin
      a_mag = lane_magnitude(A_FMT, a_i[i*A_BITS +: A_BITS]);
      b_mag = lane_magnitude(B_FMT, b_i[i*B_BITS +: B_BITS]);
      shift = lane_shift(A_FMT, a_i[i*A_BITS +: A_BITS]) + lane_shift(B_FMT, b_i[i*B_BITS +: B_BITS]);
      mag = a_mag * b_mag;
      signed_product = (sign_of(A_FMT, a_i[i*A_BITS +: A_BITS]) ^ sign_of(B_FMT, b_i[i*B_BITS +: B_BITS]))
                       ? -$signed({1'b0, mag}) : $signed({1'b0, mag});
      product = signed_product;
      sum_o = sum_o + (product <<< shift);
    end
  end
endmodule

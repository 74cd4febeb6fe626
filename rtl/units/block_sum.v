// Exact sum of BLOCK element products: every element is decoded to its integer (in units of
// 2^elem_exponent(fmt), nibble_formats.vh) and the products are added without rounding.
// Codes are packed LSB first, element i at bits [i*bits +: bits] (nibble's storage layout).
module block_sum #(
  parameter BLOCK = 32,
  parameter A_FMT = 0,
  parameter B_FMT = 0,
  // Derived; do not override.
  parameter A_BITS = (A_FMT == 0 || A_FMT == 6) ? 4 : (A_FMT == 1 || A_FMT == 2) ? 6 : 8,
  parameter B_BITS = (B_FMT == 0 || B_FMT == 6) ? 4 : (B_FMT == 1 || B_FMT == 2) ? 6 : 8,
  parameter SW = ((A_FMT == 0) ? 5 : (A_FMT == 1) ? 7 : (A_FMT == 2) ? 10 : (A_FMT == 3) ? 19 :
                  (A_FMT == 4) ? 33 : (A_FMT == 6) ? 4 : 8) +
                 ((B_FMT == 0) ? 5 : (B_FMT == 1) ? 7 : (B_FMT == 2) ? 10 : (B_FMT == 3) ? 19 :
                  (B_FMT == 4) ? 33 : (B_FMT == 6) ? 4 : 8) + $clog2(BLOCK) + 1
) (
  input  wire [BLOCK*A_BITS-1:0] a_i,
  input  wire [BLOCK*B_BITS-1:0] b_i,
  output reg  signed [SW-1:0]    sum_o
);
`include "nibble_formats.vh"

  localparam AW = elem_int_bits(A_FMT);
  localparam BW = elem_int_bits(B_FMT);

  reg signed [AW-1:0] a_int;
  reg signed [BW-1:0] b_int;
  integer i;
  always @* begin
    sum_o = 0;
    for (i = 0; i < BLOCK; i = i + 1) begin
      a_int = decode(A_FMT, {{(8 - A_BITS){1'b0}}, a_i[i*A_BITS +: A_BITS]});
      b_int = decode(B_FMT, {{(8 - B_BITS){1'b0}}, b_i[i*B_BITS +: B_BITS]});
      sum_o = sum_o + a_int * b_int;
    end
  end
endmodule

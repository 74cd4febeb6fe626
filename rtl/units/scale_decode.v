// A floating-point block scale (UE4M3: NVFP4, NVINT4, BCQ; FP16: integer groups) as an exact
// signed significand and exponent, from the format table (nibble_formats.vh):
//   UE4M3  s = (8 + m) * 2^(e - 10) for e > 0,  m * 2^-9 for e = 0;  0x7F is NaN (sign bit ignored)
//   FP16   s = +-(1024 + m) * 2^(e - 25) for 0 < e < 31,  +-m * 2^-24 for e = 0;  e = 31 is NaN
// NaN: where the top finite exponent field is all ones (UE4M3) the all-ones magnitude is NaN;
// otherwise (FP16) an all-ones exponent field is (Inf, treated as NaN by the contract).
module scale_decode #(
  parameter FMT = 8
) (
  input  wire [elem_storage_bits(FMT)-1:0]  code_i,
  output wire signed [elem_sig_bits(FMT):0] significand_o,
  output wire signed [7:0]                  exponent_o,
  output wire                               nan_o
);
`include "nibble_formats.vh"

  localparam W = elem_sig_bits(FMT) + 1;
  localparam ALL_ONES = (1 << elem_exp_bits(FMT)) - 1;
  localparam MAGNITUDE_MASK = (1 << (elem_bits(FMT) - elem_signed(FMT))) - 1;
  wire [15:0] code = code_i;
  wire [W-1:0] magnitude = significand_of(FMT, code);
  assign significand_o = sign_of(FMT, code) ? -$signed(magnitude) : $signed(magnitude);
  assign exponent_o    = shift_of(FMT, code) + elem_exponent(FMT);
  assign nan_o = elem_top_exp(FMT) == ALL_ONES ? (code & MAGNITUDE_MASK) == MAGNITUDE_MASK
                                               : exp_field_of(FMT, code) == ALL_ONES;
endmodule

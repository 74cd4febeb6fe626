// An FP16 group scale as an exact signed significand and exponent (integer groups):
//   s = +-(1024 + m) * 2^(e - 25) for 0 < e < 31,  +-m * 2^-24 for e = 0;  e = 31 (Inf, NaN) is NaN.
module scale_fp16 (
  input  wire [15:0]        code_i,
  output wire signed [12:0] significand_o,
  output wire signed [7:0]  exponent_o,
  output wire               nan_o
);
  wire [4:0] e = code_i[14:10];
  wire signed [12:0] magnitude = {2'b00, e != 0, code_i[9:0]};
  assign significand_o = code_i[15] ? -magnitude : magnitude;
  assign exponent_o    = (e != 0) ? $signed({3'd0, e}) - 8'sd25 : -8'sd24;
  assign nan_o         = e == 5'd31;
endmodule

// A UE4M3 block scale as an exact significand and exponent (NVFP4, NVINT4, BCQ):
//   s = (8 + m) * 2^(e - 10) for e > 0,  m * 2^-9 for e = 0;  0x7F (low 7 bits) is NaN.
module scale_ue4m3 (
  input  wire [7:0]        code_i,       // sign bit (bit 7) ignored
  output wire signed [5:0] significand_o,
  output wire signed [7:0] exponent_o,
  output wire              nan_o
);
  wire [3:0] e = code_i[6:3];
  assign significand_o = {2'b00, e != 0, code_i[2:0]};
  assign exponent_o    = (e != 0) ? $signed({4'd0, e}) - 8'sd10 : -8'sd9;
  assign nan_o         = code_i[6:0] == 7'h7F;
endmodule

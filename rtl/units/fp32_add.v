// IEEE 754 binary32 addition, round to nearest even, with subnormals (no flush), +-Inf and
// NaN (the canonical quiet NaN 0x7FC00000). Combinational. It is the accumulator of every
// DPU and must equal C++ float addition on x86-64 (SSE), which the co-simulation checks.
//
//   | sig (24) | guard | round | sticky |   the 27-bit working format of both operands
module fp32_add (
  input  wire [31:0] a_i,
  input  wire [31:0] b_i,
  output reg  [31:0] sum_o
);
  reg [31:0] x, y;            // |x| >= |y|
  reg        x_nan, y_nan, x_inf, y_inf, subtract;
  reg [7:0]  xe, ye;          // effective exponents (subnormals count as 1)
  reg [23:0] xs, ys;
  reg [7:0]  d;
  reg [73:0] y_wide;
  reg [26:0] xw, yw;
  reg [27:0] s;
  reg [26:0] r;
  reg [4:0]  lz;
  reg [4:0]  norm;
  reg        round_up;
  reg [24:0] sig;
  reg [8:0]  exp_out;
  integer    i;

  always @* begin
    if (a_i[30:0] >= b_i[30:0]) begin x = a_i; y = b_i; end
    else begin x = b_i; y = a_i; end
    x_nan = x[30:23] == 8'hFF && x[22:0] != 0;
    y_nan = y[30:23] == 8'hFF && y[22:0] != 0;
    x_inf = x[30:23] == 8'hFF && x[22:0] == 0;
    y_inf = y[30:23] == 8'hFF && y[22:0] == 0;
    subtract = x[31] ^ y[31];
    lz = 5'd0;
    norm = 5'd0;
    xe = (x[30:23] == 0) ? 8'd1 : x[30:23];
    ye = (y[30:23] == 0) ? 8'd1 : y[30:23];
    xs = {x[30:23] != 0, x[22:0]};
    ys = {y[30:23] != 0, y[22:0]};
    d  = xe - ye;

    // ---- align y; bits shifted below the round bit fold into sticky --------------------
    y_wide = {ys, 50'd0} >> ((d > 8'd74) ? 8'd74 : d);
    xw = {xs, 3'b000};
    yw = {y_wide[73:50], y_wide[49], y_wide[48], (|y_wide[47:0]) | ((d > 8'd74) && ys != 0)};

    // ---- add or subtract, then normalize ---------------------------------------------------
    s  = subtract ? {1'b0, xw} - {1'b0, yw} : {1'b0, xw} + {1'b0, yw};
    if (s[27]) begin
      r = {s[27:2], s[1] | s[0]};
      exp_out = {1'b0, xe} + 9'd1;
    end else begin
      // Leading zeros above the significand's top bit; the left shift stops at exponent 1
      // (a subnormal result). Large shifts only follow cancellation of operands at most one
      // binade apart, whose dropped bits are then exact (round and sticky are zero).
      for (i = 0; i <= 26; i = i + 1) if (s[i]) lz = 26 - i;
      norm = (lz > xe - 1) ? xe - 1 : lz;
      r = s[26:0] << norm;
      exp_out = {1'b0, xe} - norm;
    end

    // ---- round to nearest even ---------------------------------------------------------------
    round_up = r[2] & (r[1] | r[0] | r[3]);
    sig = {1'b0, r[26:3]} + round_up;
    if (sig[24]) begin
      sig = sig >> 1;
      exp_out = exp_out + 1;
    end

    if (x_nan || y_nan || (x_inf && y_inf && subtract)) sum_o = 32'h7FC00000;
    else if (x_inf) sum_o = x;  // |x| >= |y|: an infinite y makes x infinite too
    else if (sig == 0) sum_o = {x[31] & y[31], 31'd0};  // exact zero: +0 unless both are -0
    else if (!sig[23]) sum_o = {x[31], 8'd0, sig[22:0]};  // subnormal
    else if (exp_out >= 9'd255) sum_o = {x[31], 8'hFF, 23'd0};
    else sum_o = {x[31], exp_out[7:0], sig[22:0]};
  end
endmodule

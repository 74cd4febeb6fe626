// Rounds value_i * 2^exp_i (value_i an exact signed integer) to FP32, nearest even, with
// subnormals and overflow to +-Inf; nan_i gives the canonical NaN 0x7FC00000. Combinational.
// Mirrors round_to_fp32() of models/src/dot.cpp: keep at most 24 bits whose last one sits at
// 2^lsb, lsb = max(e - 23, -149) for a value in [2^e, 2^(e+1)); dropped bits decide the
// rounding (guard = the highest dropped bit, sticky = the OR of the rest).
// CUT = 1 registers the leading-one search's results (a pipeline cut between finding the
// kept LSB and shifting and rounding: one clock edge of latency); CUT = 0 is combinational
// and leaves clk_i unused.
module fp32_from_fixed #(
  parameter W   = 16,  // width of value_i (two's complement)
  parameter EW  = 11,  // width of exp_i (two's complement)
  parameter CUT = 0
) (
  input  wire                 clk_i,
  input  wire signed [W-1:0]  value_i,
  input  wire signed [EW-1:0] exp_i,
  input  wire                 nan_i,
  output reg  [31:0]          fp32_o
);
  localparam LZW = $clog2(W + 1);
  // The kept significand goes through a W + 25 bit window: 24 bits above the original LSB
  // leave room for left shifts, and one more bit for the guard.
  localparam XW = W + 26;

  reg              negative_d, negative, nan_d, nan;
  reg [W-1:0]      magnitude_d, magnitude;
  reg [LZW:0]      top;        // index of the leading one
  reg signed [EW+2:0] e, lsb_d, shift_d, lsb, shift, kept_lsb;
  reg [XW-1:0]     kept_x;
  reg [W-1:0]      dropped_mask;
  reg              guard, sticky, round_up;
  reg [25:0]       kept;
  reg [7:0]        exp_field;
  integer          i;

  // ---- the leading one and the kept LSB ------------------------------------------------------
  always @* begin
    negative_d  = value_i[W-1];
    magnitude_d = negative_d ? -value_i : value_i;
    nan_d       = nan_i;
    top = 0;
    for (i = 0; i < W; i = i + 1) if (magnitude_d[i]) top = i;
    e       = $signed({1'b0, top}) + exp_i;
    lsb_d   = (e - 23 > -149) ? e - 23 : -149;
    shift_d = lsb_d - exp_i;  // > 0: drop `shift` bits; <= 0: shift left
  end

  generate
    if (CUT) begin : cut
      always @(posedge clk_i) begin
        negative <= negative_d;
        magnitude <= magnitude_d;
        nan <= nan_d;
        lsb <= lsb_d;
        shift <= shift_d;
      end
    end else begin : through
      always @* begin
        negative = negative_d;
        magnitude = magnitude_d;
        nan = nan_d;
        lsb = lsb_d;
        shift = shift_d;
      end
    end
  endgenerate

  // ---- shift, round, pack ----------------------------------------------------------------------
  always @* begin
    guard = 1'b0;
    sticky = 1'b0;
    kept = 26'd0;
    kept_x = {XW{1'b0}};
    dropped_mask = {W{1'b0}};
    exp_field = 8'd0;
    if (shift <= 0) begin
      kept_x = {{26{1'b0}}, magnitude} << (-shift);
      kept = kept_x[25:0];
    end else if (shift <= W) begin
      kept_x = {{26{1'b0}}, magnitude} >> shift;
      kept = kept_x[25:0];
      guard = magnitude[shift - 1];
      dropped_mask = {W{1'b1}} >> (W - shift + 1);
      sticky = |(magnitude & dropped_mask);
    end else begin
      kept = 26'd0;  // far below the smallest subnormal: guard and kept are zero
    end
    round_up = guard & (sticky | kept[0]);
    kept = kept + round_up;
    // kept is now <= 2^24; 2^24 carries into the next binade.
    kept_lsb = lsb;
    if (kept[24]) begin
      kept = kept >> 1;
      kept_lsb = lsb + 1;
    end
    if (nan) begin
      fp32_o = 32'h7FC00000;
    end else if (magnitude == 0) begin
      fp32_o = 32'h00000000;
    end else if (kept[23]) begin
      if (kept_lsb + 150 >= 255) fp32_o = {negative, 8'hFF, 23'd0};
      else begin
        exp_field = kept_lsb + 150;
        fp32_o = {negative, exp_field, kept[22:0]};
      end
    end else begin
      fp32_o = {negative, 8'd0, kept[22:0]};  // subnormal (or zero after rounding)
    end
  end
endmodule

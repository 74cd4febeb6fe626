// The shared back end of every dot-product unit. A unit computes its exact block partial
// (sum_i * 2^exp_i, or NaN) combinationally in stage 1; the back end registers it, rounds it
// to FP32 (RNE) in stage 2 and adds it to the FP32 accumulator (RNE) in arrival order in
// stage 3. clear_i zeroes the accumulator.
//
// PIPE_STAGES = 1 cuts stage 2 in two (fp32_from_fixed's CUT: leading-one search | shift and
// round), one more clock edge of latency; the units' latency is dpu_latency(PIPE_STAGES)
// (nibble_formats.vh). The accumulator's FP32 addition is a loop at II = 1 and stays whole.
module dpu_backend #(
  parameter SW = 16,  // width of the exact partial
  parameter EW = 11,  // width of its exponent
  parameter PIPE_STAGES = 0
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  input  wire                 clear_i,
  input  wire                 valid_i,
  input  wire signed [SW-1:0] sum_i,
  input  wire signed [EW-1:0] exp_i,
  input  wire                 nan_i,
  output reg  [31:0]          acc_o
);
  reg signed [SW-1:0] sum_q;
  reg signed [EW-1:0] exp_q;
  reg                 nan_q, valid_q;
  always @(posedge clk_i) begin
    if (!rst_ni) valid_q <= 1'b0;
    else begin
      valid_q <= valid_i;
      sum_q   <= sum_i;
      exp_q   <= exp_i;
      nan_q   <= nan_i;
    end
  end

  // ---- stage 2: round the exact partial to FP32 ------------------------------------------
  wire [31:0] partial;
  fp32_from_fixed #(.W(SW), .EW(EW), .CUT(PIPE_STAGES)) round_partial (
    .clk_i(clk_i), .value_i(sum_q), .exp_i(exp_q), .nan_i(nan_q), .fp32_o(partial));

  reg [31:0] partial_q;
  reg        partial_valid_q;
  wire        partial_valid;  // valid_q through the cut
  generate
    if (PIPE_STAGES) begin : cut_valid
      reg valid_cut_q;
      always @(posedge clk_i) begin
        if (!rst_ni) valid_cut_q <= 1'b0;
        else valid_cut_q <= valid_q;
      end
      assign partial_valid = valid_cut_q;
    end else begin : uncut_valid
      assign partial_valid = valid_q;
    end
  endgenerate
  always @(posedge clk_i) begin
    if (!rst_ni) partial_valid_q <= 1'b0;
    else begin
      partial_valid_q <= partial_valid;
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

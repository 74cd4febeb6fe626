// The shared back end of every dot-product unit: stage 2 rounds the registered exact block
// partial (sum_i * 2^exp_i, or NaN) to FP32 (RNE), stage 3 adds it to the FP32 accumulator
// (RNE) in arrival order. clear_i zeroes the accumulator.
module dpu_backend #(
  parameter SW = 16,  // width of the exact partial
  parameter EW = 11   // width of its exponent
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
  // ---- stage 2: round the exact partial to FP32 ------------------------------------------
  wire [31:0] partial;
  fp32_from_fixed #(.W(SW), .EW(EW)) round_partial (
    .value_i(sum_i), .exp_i(exp_i), .nan_i(nan_i), .fp32_o(partial));

  reg [31:0] partial_q;
  reg        partial_valid_q;
  always @(posedge clk_i) begin
    if (!rst_ni) partial_valid_q <= 1'b0;
    else begin
      partial_valid_q <= valid_i;
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

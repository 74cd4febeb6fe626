// The number formats of the RTL units, in one table (the golden definitions live in
// models/include/nibble/models/element.h; this table must agree with them, and the
// co-simulation under Verilator checks that bit for bit). Every width, bias and exponent a
// unit uses is derived here from format_row(); no module spells one out.
//
// Included inside each module (Verilog-2005 has no packages); the functions may be called in
// port declarations above the include.

localparam FMT_E2M1   = 0;   // element formats
localparam FMT_E2M3   = 1;
localparam FMT_E3M2   = 2;
localparam FMT_E4M3   = 3;
localparam FMT_E5M2   = 4;
localparam FMT_MXINT8 = 5;   // MXINT8: an int8 code times 2^-6
localparam FMT_INT4   = 6;   // plain integers (NVINT4, integer groups)
localparam FMT_INT8   = 7;
localparam FMT_UE4M3  = 8;   // scale formats (the sign bit of an 8-bit UE4M3 field is ignored)
localparam FMT_FP16   = 9;
localparam FMT_E8M0   = 10;

// One row per format id. BITS: code width; EXP: exponent bits (0: a two's-complement
// integer); BIAS: exponent bias (an integer's value is code * 2^-BIAS); TOP: the largest
// exponent field of a finite value; SIGNED: has a sign bit; LANE: how block_sum multiplies
// the format (LANE_SHIFT or LANE_INTEGER, below; per format, whichever synthesizes smaller:
// LANE_SHIFT for every float, README "RTL"; integers have no exponent to shift).
localparam LANE_INTEGER = 0;  // decode to the exact integer, multiply at full width
localparam LANE_SHIFT   = 1;  // multiply significands, shift the product by the exponents

function [47:0] format_row;
  input integer fmt;
  case (fmt)  //                   BITS   EXP    BIAS     TOP    SIGNED  LANE
    FMT_E2M1:   format_row = {8'd4,  8'd2, 8'd1,   8'd3,   8'd1, 8'd1};
    FMT_E2M3:   format_row = {8'd6,  8'd2, 8'd1,   8'd3,   8'd1, 8'd1};
    FMT_E3M2:   format_row = {8'd6,  8'd3, 8'd3,   8'd7,   8'd1, 8'd1};
    FMT_E4M3:   format_row = {8'd8,  8'd4, 8'd7,   8'd15,  8'd1, 8'd1};
    FMT_E5M2:   format_row = {8'd8,  8'd5, 8'd15,  8'd30,  8'd1, 8'd1};
    FMT_MXINT8: format_row = {8'd8,  8'd0, 8'd6,   8'd0,   8'd1, 8'd0};
    FMT_INT4:   format_row = {8'd4,  8'd0, 8'd0,   8'd0,   8'd1, 8'd0};
    FMT_INT8:   format_row = {8'd8,  8'd0, 8'd0,   8'd0,   8'd1, 8'd0};
    FMT_UE4M3:  format_row = {8'd7,  8'd4, 8'd7,   8'd15,  8'd0, 8'd0};
    FMT_FP16:   format_row = {8'd16, 8'd5, 8'd15,  8'd30,  8'd1, 8'd0};
    FMT_E8M0:   format_row = {8'd8,  8'd8, 8'd127, 8'd254, 8'd0, 8'd0};
    default:    format_row = 48'd0;
  endcase
endfunction

function integer elem_bits;  // code width
  input integer fmt;
  elem_bits = format_row(fmt) >> 40 & 8'hFF;
endfunction

function integer elem_storage_bits;  // a code's field in nibble's storage: whole bytes for scales
  input integer fmt;
  elem_storage_bits = (elem_bits(fmt) + 7) / 8 * 8;
endfunction

function integer elem_exp_bits;
  input integer fmt;
  elem_exp_bits = format_row(fmt) >> 32 & 8'hFF;
endfunction

function integer elem_bias;
  input integer fmt;
  elem_bias = format_row(fmt) >> 24 & 8'hFF;
endfunction

function integer elem_top_exp;
  input integer fmt;
  elem_top_exp = format_row(fmt) >> 16 & 8'hFF;
endfunction

function integer elem_signed;
  input integer fmt;
  elem_signed = format_row(fmt) >> 8 & 8'hFF;
endfunction

function integer elem_lane;
  input integer fmt;
  elem_lane = format_row(fmt) & 8'hFF;
endfunction

function integer elem_is_float;
  input integer fmt;
  elem_is_float = elem_exp_bits(fmt) != 0;
endfunction

function integer elem_man_bits;  // integers: the magnitude bits
  input integer fmt;
  elem_man_bits = elem_bits(fmt) - elem_exp_bits(fmt) - elem_signed(fmt);
endfunction

// Every value is an integer in units of 2^elem_exponent(fmt), the exponent of the smallest
// subnormal: (2^M + m) * 2^(e - 1) for e > 0, m for e = 0 (E2M1 -1, E4M3 -9, E5M2 -16, UE4M3
// -9, FP16 -24; MXINT8 -6, plain integers 0). E8M0, without subnormals: 2^(e - 127).
function integer elem_exponent;
  input integer fmt;
  elem_exponent = fmt == FMT_E8M0 ? -elem_bias(fmt)
                  : elem_is_float(fmt) ? 1 - elem_bias(fmt) - elem_man_bits(fmt) : -elem_bias(fmt);
endfunction

// Width of the significand (2^M + m, unsigned): E2M1 2, E4M3 4, UE4M3 4, FP16 11.
function integer elem_sig_bits;
  input integer fmt;
  elem_sig_bits = elem_man_bits(fmt) + 1;
endfunction

// Width of the exact magnitude integer: E2M1 12 (4 bits), E2M3 60, E3M2 448, E4M3 448 * 2^9
// (18 bits), E5M2 57344 * 2^16 (32 bits); INT8 128 (8 bits), INT4 8 (4 bits).
function integer elem_magnitude_bits;
  input integer fmt;
  elem_magnitude_bits = elem_is_float(fmt) ? elem_sig_bits(fmt) + elem_top_exp(fmt) - 1
                                           : elem_bits(fmt);
endfunction

// What a block_sum lane multiplies per operand: a magnitude of lane_magnitude_bits, shifted
// left by up to lane_max_shift (the whole integer and no shift for LANE_INTEGER).
function integer lane_magnitude_bits;
  input integer fmt;
  lane_magnitude_bits = elem_lane(fmt) == LANE_SHIFT ? elem_sig_bits(fmt) : elem_magnitude_bits(fmt);
endfunction

function integer lane_max_shift;
  input integer fmt;
  lane_max_shift = elem_lane(fmt) == LANE_SHIFT ? elem_top_exp(fmt) - 1 : 0;
endfunction

// A lane's exact product: a sign and the two magnitudes' product at its largest shift.
function integer lane_product_bits;
  input integer a_fmt, b_fmt;
  lane_product_bits = elem_magnitude_bits(a_fmt) + elem_magnitude_bits(b_fmt) + 1;
endfunction

// Width of block_sum's exact sum.
function integer block_sum_width;
  input integer a_fmt, b_fmt, block;
  block_sum_width = lane_product_bits(a_fmt, b_fmt) + $clog2(block);
endfunction

// The fields of an element code, widened to 16 bits (FP16 scales are the widest code).
function sign_of;
  input integer fmt;
  input [15:0] code;
  sign_of = elem_signed(fmt) && code[elem_bits(fmt) - 1];
endfunction

function [15:0] exp_field_of;
  input integer fmt;
  input [15:0] code;
  exp_field_of = (code >> elem_man_bits(fmt)) & ((1 << elem_exp_bits(fmt)) - 1);
endfunction

// |value| in units of 2^elem_exponent(fmt), split as significand << shift: for a float the
// significand with its hidden bit and shift = max(e, 1) - 1 (a subnormal shifts by 0); for an
// integer its magnitude (|-2^(n-1)| = 2^(n-1) fits the code width) and shift 0.
function [15:0] significand_of;
  input integer fmt;
  input [15:0] code;
  reg [15:0] m;
  begin
    m = code & ((1 << elem_man_bits(fmt)) - 1);
    if (!elem_is_float(fmt))
      significand_of = (sign_of(fmt, code) ? -code : code) & ((1 << elem_bits(fmt)) - 1);
    else
      significand_of = (exp_field_of(fmt, code) != 0) ? m | (1 << elem_man_bits(fmt)) : m;
  end
endfunction

function [7:0] shift_of;
  input integer fmt;
  input [15:0] code;
  shift_of = (elem_is_float(fmt) && exp_field_of(fmt, code) != 0) ? exp_field_of(fmt, code) - 1 : 0;
endfunction

// The lane operand of a code: LANE_SHIFT keeps significand and shift apart, LANE_INTEGER
// applies the shift (the exact magnitude integer, shift 0).
function [33:0] lane_magnitude;
  input integer fmt;
  input [15:0] code;
  lane_magnitude = elem_lane(fmt) == LANE_SHIFT ? significand_of(fmt, code)
                                               : {18'd0, significand_of(fmt, code)} << shift_of(fmt, code);
endfunction

function [7:0] lane_shift;
  input integer fmt;
  input [15:0] code;
  lane_shift = elem_lane(fmt) == LANE_SHIFT ? shift_of(fmt, code) : 8'd0;
endfunction

// Clock edges from the edge that samples a block pair to the one that adds its partial to the
// accumulator (dpu_backend): register, round, accumulate, plus one per pipeline cut.
function integer dpu_latency;
  input integer pipe_stages;
  dpu_latency = 2 + pipe_stages;
endfunction

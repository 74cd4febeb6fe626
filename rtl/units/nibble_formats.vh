// Element formats of the RTL units, in one place (the golden definitions live in
// models/include/nibble/models/element.h; these functions must agree with them, and the
// co-simulation under Verilator checks that bit for bit).
//
// Format ids: 0 E2M1, 1 E2M3, 2 E3M2, 3 E4M3, 4 E5M2, 5 INT8 (MXINT8: int8 / 64),
// 6 INT4 and 7 INT8 (plain integers: NVINT4, integer groups).
// Every element decodes to a signed integer in units of 2^elem_exponent(fmt), the exponent
// of the format's smallest subnormal:  (2^M + m) * 2^(e - 1)  for e > 0,  m  for e = 0.

function integer elem_bits;  // code width
  input integer fmt;
  elem_bits = (fmt == 0 || fmt == 6) ? 4 : (fmt == 1 || fmt == 2) ? 6 : 8;
endfunction

function integer elem_exp_bits;
  input integer fmt;
  elem_exp_bits = (fmt == 0 || fmt == 1) ? 2 : (fmt == 2) ? 3 : (fmt == 3) ? 4 : (fmt == 4) ? 5 : 0;
endfunction

function integer elem_man_bits;
  input integer fmt;
  elem_man_bits = (fmt == 0) ? 1 : (fmt == 1 || fmt == 3) ? 3 : 2;
endfunction

// Exponent of one integer unit: 1 - bias - M (MXINT8: -6, plain integers: 0).
function integer elem_exponent;
  input integer fmt;
  elem_exponent = (fmt == 0) ? -1 : (fmt == 1) ? -3 : (fmt == 2) ? -4 : (fmt == 3) ? -9 :
                  (fmt == 4) ? -16 : (fmt == 5) ? -6 : 0;
endfunction

// Signed width of the decoded integer: E2M1 12, E2M3 60, E3M2 448, E4M3 448 * 2^9,
// E5M2 57344 * 2^16, INT8 -128..127, INT4 -8..7.
function integer elem_int_bits;
  input integer fmt;
  elem_int_bits = (fmt == 0) ? 5 : (fmt == 1) ? 7 : (fmt == 2) ? 10 : (fmt == 3) ? 19 :
                  (fmt == 4) ? 33 : (fmt == 6) ? 4 : 8;
endfunction

// Width of block_sum's exact sum (its SW parameter).
function integer block_sum_width;
  input integer a_fmt, b_fmt, block;
  block_sum_width = elem_int_bits(a_fmt) + elem_int_bits(b_fmt) + $clog2(block) + 1;
endfunction

// Signed integer of an element code, in units of 2^elem_exponent(fmt).
function signed [33:0] decode;
  input integer fmt;
  input [7:0] code;
  integer eb, mb;
  reg [7:0] e, m;
  reg signed [33:0] magnitude;
  begin
    eb = elem_exp_bits(fmt);
    mb = elem_man_bits(fmt);
    if (fmt == 5 || fmt == 7) begin
      decode = {{26{code[7]}}, code};
    end else if (fmt == 6) begin
      decode = {{30{code[3]}}, code[3:0]};
    end else begin
      e = (code >> mb) & ((1 << eb) - 1);
      m = code & ((1 << mb) - 1);
      magnitude = (e == 0) ? {26'd0, m} : ({26'd0, m} + (34'sd1 <<< mb)) <<< (e - 1);
      decode = code[eb + mb] ? -magnitude : magnitude;
    end
  end
endfunction


// Element formats of the RTL units, in one place (the golden definitions live in
// models/include/nibble/models/element.h; these functions must agree with them, and the
// co-simulation under Verilator checks that bit for bit).
//
// Format ids: 0 E2M1, 1 E2M3, 2 E3M2, 3 E4M3, 4 E5M2, 5 INT8 (MXINT8: int8 / 64).
// Every element decodes to a signed integer in units of 2^elem_exponent(fmt), the exponent
// of the format's smallest subnormal:  (2^M + m) * 2^(e - 1)  for e > 0,  m  for e = 0.

function integer elem_bits;  // code width
  input integer fmt;
  elem_bits = (fmt == 0) ? 4 : (fmt == 1 || fmt == 2) ? 6 : 8;
endfunction

function integer elem_exp_bits;
  input integer fmt;
  elem_exp_bits = (fmt == 0 || fmt == 1) ? 2 : (fmt == 2) ? 3 : (fmt == 3) ? 4 : (fmt == 4) ? 5 : 0;
endfunction

function integer elem_man_bits;
  input integer fmt;
  elem_man_bits = (fmt == 0) ? 1 : (fmt == 1 || fmt == 3) ? 3 : 2;
endfunction

// Exponent of one integer unit: 1 - bias - M (INT8: -6).
function integer elem_exponent;
  input integer fmt;
  elem_exponent = (fmt == 0) ? -1 : (fmt == 1) ? -3 : (fmt == 2) ? -4 : (fmt == 3) ? -9 :
                  (fmt == 4) ? -16 : -6;
endfunction

// Signed width of the decoded integer: E2M1 12, E2M3 60, E3M2 448, E4M3 448 * 2^9,
// E5M2 57344 * 2^16, INT8 -128..127.
function integer elem_int_bits;
  input integer fmt;
  elem_int_bits = (fmt == 0) ? 5 : (fmt == 1) ? 7 : (fmt == 2) ? 10 : (fmt == 3) ? 19 :
                  (fmt == 4) ? 33 : 8;
endfunction

#!/usr/bin/env python3
"""An independent implementation of OCP MX v1.0 quantize-dequantize (round to nearest even).

Written from the OCP Microscaling Formats specification, section 6.3, in float64 NumPy:
the shared exponent is floor(log2(amax)) - emax_elem taken from np.frexp (exact, no float
log2), clamped to [-127, 127] (an all-zero block gets -127); each element x / 2^shared is
rounded to the element grid of its own binade with np.rint (ties to even) and clamped to
the element's largest normal value. A block holding NaN or Inf gets the NaN scale.

usage: mx_reference.py FORMAT ROWS COLS INPUT.f32 OUTPUT.f32 SCALES.i32
  INPUT/OUTPUT: raw little-endian float32, row-major; SCALES: int32 shared exponent per
  32-element block (255 for a NaN block). COLS must be a multiple of 32.
"""
import sys

import numpy as np

BLOCK = 32
# element: (mantissa bits, exponent bias, emax = exponent of the largest binade, max normal)
FLOAT_ELEMENTS = {
    "mxfp4": (1, 1, 2, 6.0),
    "mxfp6_e2m3": (3, 1, 2, 7.5),
    "mxfp6_e3m2": (2, 3, 4, 28.0),
    "mxfp8_e4m3": (3, 7, 8, 448.0),
    "mxfp8_e5m2": (2, 15, 15, 57344.0),
}


def floor_log2(a):
    _, e = np.frexp(a)  # a = m * 2^e with m in [0.5, 1)
    return e.astype(np.int64) - 1


def quantize_elements(v, fmt):
    if fmt == "mxint8":  # int8 / 64, symmetric [-127, 127]; integers have no -0 (+ 0.0 drops it)
        return (np.clip(np.rint(v * 64.0), -127, 127) + 0.0) / 64.0
    mbits, bias, _, max_normal = FLOAT_ELEMENTS[fmt]
    a = np.abs(v)
    binade = np.maximum(floor_log2(np.where(a > 0, a, 1.0)), 1 - bias)  # subnormals share emin
    step = np.ldexp(1.0, binade - mbits)
    q = np.rint(v / step) * step
    return np.clip(q, -max_normal, max_normal)


def main():
    fmt, rows, cols, src, dst, scales_path = sys.argv[1:7]
    rows, cols = int(rows), int(cols)
    emax = 0 if fmt == "mxint8" else FLOAT_ELEMENTS[fmt][2]
    x = np.fromfile(src, dtype="<f4").astype(np.float64).reshape(rows * cols // BLOCK, BLOCK)
    finite = np.all(np.isfinite(x), axis=1)
    amax = np.max(np.where(np.isfinite(x), np.abs(x), 0.0), axis=1)
    shared = np.where(amax > 0, floor_log2(np.where(amax > 0, amax, 1.0)) - emax, -127)
    shared = np.clip(shared, -127, 127)
    scaled = x / np.ldexp(1.0, shared)[:, None]
    with np.errstate(invalid="ignore"):
        y = quantize_elements(np.where(finite[:, None], scaled, 0.0), fmt)
    y = y * np.ldexp(1.0, shared)[:, None]
    y[~finite, :] = np.nan
    y.astype("<f4").tofile(dst)
    np.where(finite, shared, 255).astype("<i4").tofile(scales_path)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Independent quantizers for every nibble block format, written from the specifications.

Sources: OCP Microscaling Formats (MX) v1.0 section 6.3 and torchao's ScaleCalculationMode
(FLOOR, CEIL, EVEN, RCEIL); NVIDIA NVFP4 in torchao's and ModelOpt's arithmetic as DESIGN.md
states it; GPTQ-style integer groups (symmetric and asymmetric with a zero point); AFPQ
(Zhang et al. 2023, separate scales for the positive and negative values); BCQ (Elangovan et
al. 2025) with codebooks given in a file. Everything is NumPy: grids are walked in float64
(exact for every FP32 input), FP32 arithmetic that the formats define (divisions by a stored
scale, NVFP4's per-tensor factors) is done in np.float32, FP16 through np.float16 and BF16 by
rounding the FP32 bit pattern.

usage: formats_reference.py cases ROWS COLS OUTDIR KIND:FORMAT...
       formats_reference.py FORMAT ROWS COLS INPUT.f32 OUTDIR [CODEBOOKS.f32]
       formats_reference.py gemm FORMAT M N K X.f32 W.f32 OUT.f64
  cases: for the i-th KIND:FORMAT pair, writes OUTDIR/i/input.f32 (and codebooks.f32 for
  bcq) and quantizes it into OUTDIR/i (one process for all: NumPy starts once). KIND "mixed" (random
  rows of many shapes, zero/NaN/Inf blocks, FP32 subnormals, values near FLT_MAX, amax just
  below a power of two) or "ties" (every block's amax puts its scale on a power of two and
  its other values on grid points and midpoints of the format's own grid).
  INPUT: raw little-endian float32, row-major. Writes into OUTDIR:
    values.f32   dequantized values (rows x cols)
    codes.i32    element code of every stored element (rows x padded cols, padding included)
    scales.u8    block scale codes, little-endian, row-major (the storage layout)
    aux.u8       per-block side data (zero points, negative scales, selectors)
    tensor.f32   the per-tensor FP32 scale (1 where the format has none)
  CODEBOOKS (bcq only): float32, nc x 2^b entries, each codebook ascending.
  gemm: X [M, K] and W [N, K] quantized along K (not bcq), then in float64 (every product of
  two FP32 values exact) Y = dq(X) dq(W)^T and A = |dq(X)| |dq(W)|^T, written as OUT.f64 =
  Y then A (2 x M x N little-endian float64): the fake-quantized GEMM and the magnitude its
  FP32 rounding bounds are stated in.
"""
import os
import sys

import numpy as np

F32 = np.float32


def floor_log2(a):
    """floor(log2(a)) of positive float64 values, exact (a = m 2^e with m in [0.5, 1))."""
    _, e = np.frexp(a)
    return e.astype(np.int64) - 1


def is_pow2(a):
    m, _ = np.frexp(a)
    return m == 0.5


def round_integer(v, ties):
    """Nearest integer of float64 values; ties to even or away from zero."""
    if ties == "even":
        return np.rint(v)
    return np.copysign(np.floor(np.abs(v) + 0.5), v)


class Minifloat:
    """A sign-magnitude float: exponent bits, mantissa bits, bias, largest finite value."""

    def __init__(self, ebits, mbits, bias, max_value, signed=True):
        self.ebits, self.mbits, self.bias, self.max = ebits, mbits, bias, max_value
        self.signed = signed
        self.emin = 1 - bias  # exponent of the smallest normal binade (subnormals share it)

    def round(self, v, ties="even"):
        """Nearest grid value of float64 v (exact), saturating to +-max; keeps the sign of 0."""
        a = np.abs(v)
        binade = np.maximum(floor_log2(np.where(a > 0, a, 1.0)), self.emin)
        step = np.ldexp(1.0, binade - self.mbits)
        q = np.minimum(round_integer(a / step, ties) * step, self.max)
        return np.copysign(q, v)

    def encode(self, q):
        """Codes of grid values q: sign | biased exponent | mantissa (subnormal: exponent 0)."""
        a = np.abs(q)
        normal = a >= np.ldexp(1.0, self.emin)
        e = np.where(normal, floor_log2(np.where(a > 0, a, 1.0)), self.emin)
        field = np.where(normal, e + self.bias, 0)
        mant = np.where(normal, a / np.ldexp(1.0, e) - 1.0, a / np.ldexp(1.0, self.emin))
        code = (field << self.mbits) | np.rint(mant * (1 << self.mbits)).astype(np.int64)
        if self.signed:
            code |= np.signbit(q).astype(np.int64) << (self.ebits + self.mbits)
        return code


E2M1 = Minifloat(2, 1, 1, 6.0)
E2M3 = Minifloat(2, 3, 1, 7.5)
E3M2 = Minifloat(3, 2, 3, 28.0)
E4M3 = Minifloat(4, 3, 7, 448.0)
E5M2 = Minifloat(5, 2, 15, 57344.0)
UE4M3 = Minifloat(4, 3, 7, 448.0, signed=False)
UE4M3_NAN = 0x7F  # E4M3's S.1111.111 with the sign bit dropped


def parse(name):
    base, *opts = name.split(":")
    return base, dict(o.split("=", 1) for o in opts)


# ---------------------------------------------------------------------------------------------
# FP16 / BF16 / FP32 scales: value, code, and the code of NaN.

def to_scale_float(v32, fmt):
    """RNE of FP32 values to the scale format, returned as FP32 values (Inf on overflow)."""
    if fmt == "fp16":
        with np.errstate(over="ignore"):
            return v32.astype(np.float16).astype(F32)
    if fmt == "bf16":
        bits = v32.astype(F32).view(np.uint32).astype(np.uint64)
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
        return rounded.astype(np.uint32).view(F32)
    return v32.astype(F32)


def scale_float_code(s32, fmt):
    """Codes of FP32 scale values; NaN gets the exponent-all-ones, mantissa-1 pattern that
    element.h declares canonical for FP16 and BF16 (FP32: the default quiet NaN)."""
    s32 = np.asarray(s32, dtype=F32)
    if fmt in ("fp16", "bf16"):
        nan = 0x7C01 if fmt == "fp16" else 0x7F81
        return np.where(np.isnan(s32), nan, _float_code(np.where(np.isnan(s32), F32(0), s32), fmt))
    return _float_code(s32, fmt)


def _float_code(s32, fmt):
    if fmt == "fp16":
        return s32.astype(np.float16).view(np.uint16).astype(np.int64)
    if fmt == "bf16":
        return (s32.astype(F32).view(np.uint32) >> 16).astype(np.int64)
    return s32.astype(F32).view(np.uint32).astype(np.int64)


SCALE_BYTES = {"fp16": 2, "bf16": 2, "fp32": 4}
SMALLEST_POSITIVE = {"fp16": 2.0 ** -24, "bf16": 2.0 ** -133, "fp32": 2.0 ** -149}
LARGEST_FINITE = {"fp16": 65504.0, "bf16": float(np.uint32(0x7F7F0000).view(F32)),
                  "fp32": float(np.finfo(F32).max)}


def le_bytes(codes, width):
    """Little-endian bytes of non-negative integer codes, `width` bytes each."""
    codes = np.asarray(codes, dtype=np.uint64).reshape(-1)
    return np.stack([(codes >> (8 * k)) & 0xFF for k in range(width)], axis=1).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Blocks: rows cut into blocks along the row, the last one zero-padded.

def blocks_of(x, block):
    rows, cols = x.shape
    nb = -(-cols // block)
    padded = np.zeros((rows, nb * block), dtype=np.float64)
    padded[:, :cols] = x
    return padded.reshape(rows, nb, block)


def finite_amax(b):
    finite = np.all(np.isfinite(b), axis=-1)
    amax = np.max(np.where(np.isfinite(b), np.abs(b), 0.0), axis=-1)
    return finite, amax


class Result:
    def __init__(self, values, codes, scales, aux=None, tensor_scale=1.0):
        self.values, self.codes, self.scales = values, codes, scales
        self.aux = np.zeros(0, np.uint8) if aux is None else aux
        self.tensor_scale = tensor_scale


# ---------------------------------------------------------------------------------------------
# OCP MX v1.0 (section 6.3) with torchao's scale rules.

MX_ELEMENTS = {"mxfp4": E2M1, "mxfp6_e2m3": E2M3, "mxfp6_e3m2": E3M2, "mxfp8_e4m3": E4M3,
               "mxfp8_e5m2": E5M2}


def mx_shared_exponent(amax, emax, mbits, max_elem, rule):
    """Unbiased E8M0 exponent of each block from its amax (> 0), by torchao's formulas."""
    a = np.where(amax > 0, amax, 1.0)
    if rule == "floor":  # OCP: floor(log2(amax)) - emax_elem
        e = floor_log2(a)
    elif rule == "ceil":  # ceil(log2(amax)) - emax_elem
        e = floor_log2(a) + (~is_pow2(a))
    elif rule == "even":  # amax rounded half-up to the element's mantissa width, then FLOOR
        bits = a.astype(F32).view(np.uint32).astype(np.int64)
        e = (((bits + (1 << (23 - mbits - 1))) >> 23) & 0xFF) - 127  # FP32 exponent field
    elif rule == "rceil":  # ceil(log2(amax * (1 / max_elem))) in FP32, no emax term
        t = (a.astype(F32) * F32(1.0 / max_elem)).astype(np.float64)
        t = np.where(t > 0, t, 2.0 ** -149)
        return np.clip(floor_log2(t) + (~is_pow2(t)), -127, 127)
    else:
        raise SystemExit(f"unknown scale rule {rule}")
    return np.clip(e - emax, -127, 127)


def mx(name, x):
    base, opts = parse(name)
    block = int(opts.get("block", 32))
    ties = opts.get("round", "even")
    rule = opts.get("scale", "floor")
    b = blocks_of(x, block)
    finite, amax = finite_amax(b)
    if base == "mxint8":
        emax, mbits, max_elem = 0, 6, 127 / 64
        lo = -128 if opts.get("range", "symmetric") == "full" else -127
    else:
        elem = MX_ELEMENTS[base]
        emax, mbits, max_elem = floor_log2(np.array(elem.max)), elem.mbits, elem.max
    shared = np.where(amax > 0, mx_shared_exponent(amax, emax, mbits, max_elem, rule), -127)
    scale = np.ldexp(1.0, shared)[..., None]
    y = np.where(finite[..., None], b / scale, 0.0)
    if base == "mxint8":
        ints = np.clip(round_integer(y * 64.0, ties), lo, 127) + 0.0  # integers have no -0
        q = ints / 64.0
        codes = ints.astype(np.int64) & 0xFF
    else:
        q = elem.round(y, ties)
        codes = elem.encode(q)
    values = q * scale
    values[~finite] = np.nan
    codes[~finite] = 0
    scale_codes = np.where(finite, shared + 127, 0xFF)
    return Result(values, codes, le_bytes(scale_codes, 1))


# ---------------------------------------------------------------------------------------------
# NVFP4 / NVINT4: UE4M3 block scales times an FP32 per-tensor scale g = amax / (448 m).

def nv(name, x):
    base, opts = parse(name)
    block = int(opts.get("block", 16))
    ties = opts.get("round", "even")
    modelopt = opts.get("arith", "torchao") == "modelopt"
    m = F32(6.0) if base == "nvfp4" else F32(7.0)
    finite_x = np.isfinite(x)
    tensor_amax = F32(np.max(np.abs(np.where(finite_x, x, 0.0))))
    g = tensor_amax / (F32(448.0) * m)
    if not (np.isfinite(g) and g > 0):
        g = F32(1.0)
    b = blocks_of(x, block).astype(F32)
    finite, amax = finite_amax(b.astype(np.float64))
    s_wanted = (amax.astype(F32) / m) / g
    if modelopt:
        s = UE4M3.round(s_wanted.astype(np.float64), "even")
        s = np.where(s == 0, 1.0, s).astype(F32)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = b / (s * g)[..., None]
    else:
        s = UE4M3.round(np.clip(s_wanted, F32(2.0 ** -6), F32(448.0)).astype(np.float64),
                        "even").astype(F32)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = b * ((F32(1.0) / g) / s)[..., None]
    y = np.where(finite[..., None], y, F32(0.0)).astype(np.float64)
    if base == "nvfp4":
        q = E2M1.round(y, ties)
        codes = E2M1.encode(q)
    else:
        q = np.clip(round_integer(y, ties), -7, 7) + 0.0
        codes = q.astype(np.int64) & 0xF
    values = ((q.astype(F32) * s[..., None]) * g).astype(np.float64)
    values[~finite] = np.nan
    codes[~finite] = 0
    scale_codes = np.where(finite, UE4M3.encode(s.astype(np.float64)), UE4M3_NAN)
    return Result(values, codes, le_bytes(scale_codes, 1), tensor_scale=g)


# ---------------------------------------------------------------------------------------------
# Integer groups (GPTQ convention) and AFPQ: FP16/BF16/FP32 scales computed in FP32.

def stored_scale(wanted32, fmt):
    """The scale format's value of an FP32 scale, saturating (DESIGN.md: round to nearest,
    saturate); a scale that rounds to zero becomes the smallest positive one."""
    s = np.minimum(to_scale_float(wanted32, fmt), F32(LARGEST_FINITE[fmt]))
    return np.where(s > 0, s, F32(SMALLEST_POSITIVE[fmt])).astype(F32)


def int_group(name, x):
    base, opts = parse(name)
    parts = base.split("_")
    bits, group = int(parts[0][3:]), int(parts[1][1:])
    asym = len(parts) == 3
    fmt, ties = opts.get("scale", "fp16"), opts.get("round", "even")
    b = blocks_of(x, group).astype(F32)
    finite, amax = finite_amax(b.astype(np.float64))
    safe = np.where(np.isfinite(b), b, F32(0.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if asym:
            levels = (1 << bits) - 1
            lo = np.minimum(np.min(safe, axis=-1), F32(0.0))
            hi = np.maximum(np.max(safe, axis=-1), F32(0.0))
            s = stored_scale((hi - lo) / F32(levels), fmt)
            z = np.clip(round_integer((-lo / s).astype(np.float64), ties), 0, levels)
            q = np.clip(round_integer((safe / s[..., None]).astype(np.float64), ties)
                        + z[..., None], 0, levels)
            values = ((q - z[..., None]).astype(F32) * s[..., None]).astype(np.float64)
            codes = q.astype(np.int64)
            aux = le_bytes(np.where(finite, z, 0).astype(np.int64), 1)
        else:
            top = (1 << (bits - 1)) - 1
            s = stored_scale(amax.astype(F32) / F32(top), fmt)
            q = np.clip(round_integer((safe / s[..., None]).astype(np.float64), ties),
                        -top, top) + 0.0
            values = (q.astype(F32) * s[..., None]).astype(np.float64)
            codes = q.astype(np.int64) & ((1 << bits) - 1)
            aux = None
    values[~finite] = np.nan
    codes[~finite] = 0
    scale_codes = np.where(finite, scale_float_code(s, fmt), scale_float_code(F32(np.nan), fmt))
    return Result(values, codes, le_bytes(scale_codes, SCALE_BYTES[fmt]), aux)


def afpq(name, x):
    base, opts = parse(name)
    group = int(base.split("_g")[1])
    fmt, ties = opts.get("scale", "fp16"), opts.get("round", "even")
    b = blocks_of(x, group).astype(F32)
    finite, _ = finite_amax(b.astype(np.float64))
    safe = np.where(np.isfinite(b), b, F32(0.0))
    with np.errstate(over="ignore"):
        s_pos = stored_scale(np.max(np.maximum(safe, F32(0.0)), axis=-1) / F32(6.0), fmt)
        s_neg = stored_scale(np.max(np.maximum(-safe, F32(0.0)), axis=-1) / F32(6.0), fmt)
    s = np.where(safe >= 0, s_pos[..., None], s_neg[..., None])
    q = E2M1.round((safe / s).astype(np.float64), ties)
    values = (q.astype(F32) * s).astype(np.float64)
    codes = E2M1.encode(q)
    values[~finite] = np.nan
    codes[~finite] = 0
    nan_code = scale_float_code(F32(np.nan), fmt)
    width = SCALE_BYTES[fmt]
    pos_codes = np.where(finite, scale_float_code(s_pos, fmt), nan_code)
    neg_codes = np.where(finite, scale_float_code(s_neg, fmt), nan_code)
    return Result(values, codes, le_bytes(pos_codes, width), le_bytes(neg_codes, width))


# ---------------------------------------------------------------------------------------------
# BCQ with given codebooks.

def e8m0_ceil(v32):
    """The power of two at or above positive FP32 values (bcq.h), clamped to E8M0's range."""
    v = v32.astype(np.float64)
    e = floor_log2(v) + (~is_pow2(v))
    return np.ldexp(1.0, np.clip(e, -127, 127)).astype(F32)


def bcq(name, x, codebook_path):
    _, opts = parse(name)
    lb, la = int(opts.get("lb", 8)), int(opts.get("la", 64))
    nc, ib, eb = int(opts.get("nc", 16)), int(opts.get("b", 4)), int(opts.get("e", 6))
    fmt = opts.get("scale", "ue4m3")
    books = np.fromfile(codebook_path, dtype="<f4").astype(np.float64).reshape(nc, 1 << ib)
    grid_max = F32((1 << (eb - 1)) - 1)
    arrays = blocks_of(x, la).astype(F32)
    finite, amax = finite_amax(arrays.astype(np.float64))
    g = F32(1.0)
    wanted = amax.astype(F32) / grid_max
    if fmt == "ue4m3":
        tensor_amax = F32(np.max(np.abs(np.where(np.isfinite(x), x, 0.0))))
        g = tensor_amax / (F32(448.0) * grid_max)
        if not (np.isfinite(g) and g > 0):
            g = F32(1.0)
        s = UE4M3.round(np.clip(wanted / g, F32(2.0 ** -9), F32(448.0)).astype(np.float64),
                        "even").astype(F32)
        scale_codes = np.where(finite, UE4M3.encode(s.astype(np.float64)), UE4M3_NAN)
        width = 1
    elif fmt == "e8m0":
        s = e8m0_ceil(np.where(wanted > 0, wanted, F32(2.0 ** -127)))
        scale_codes = np.where(finite, floor_log2(s.astype(np.float64)) + 127, 0xFF)
        width = 1
    else:
        s = stored_scale(wanted, fmt)
        scale_codes = np.where(finite, scale_float_code(s, fmt),
                               scale_float_code(F32(np.nan), fmt))
        width = SCALE_BYTES[fmt]
    safe = np.where(np.isfinite(arrays), arrays, F32(0.0))
    y = (safe / (s * g)[..., None]).astype(np.float64)
    rows, na, _ = y.shape
    yb = y.reshape(rows, na, la // lb, lb, 1, 1)
    # Nearest entry per scalar and codebook; on a tie the larger entry (the later one).
    dist = np.abs(yb - books[None, None, None, None, :, :])       # ..., lb, nc, entries
    rev = dist[..., ::-1]
    index = (books.shape[1] - 1) - np.argmin(rev, axis=-1)        # ..., lb, nc
    chosen = np.take_along_axis(np.broadcast_to(books, dist.shape), index[..., None],
                                axis=-1)[..., 0]
    err = np.sum((yb[..., 0] - chosen) ** 2, axis=3)              # ..., nc (per block)
    selector = np.argmin(err, axis=-1)                            # lowest index on ties
    idx = np.take_along_axis(index, selector[..., None, None], axis=-1)[..., 0]
    entry = np.take_along_axis(chosen, selector[..., None, None], axis=-1)[..., 0]
    entry = entry.reshape(rows, na, la)
    values = ((entry.astype(F32) * s[..., None]) * g).astype(np.float64)
    codes = idx.reshape(rows, na, la).astype(np.int64)
    values[~finite] = np.nan
    codes[~finite] = 0
    selector[~finite] = 0
    sel_bits = max(1, int(np.ceil(np.log2(nc))))
    aux = pack_lsb_first(selector.reshape(rows * na, la // lb), sel_bits,
                         -(-(la // lb) * sel_bits // 8))
    return Result(values, codes, le_bytes(scale_codes, width), aux, tensor_scale=g)


def pack_lsb_first(codes, bits, nbytes):
    """Each row of codes packed LSB first into nbytes bytes."""
    out = np.zeros((codes.shape[0], nbytes), dtype=np.uint8)
    for i in range(codes.shape[1]):
        for k in range(bits):
            bit = i * bits + k
            out[:, bit // 8] |= (((codes[:, i] >> k) & 1) << (bit % 8)).astype(np.uint8)
    return out


def quantize(name, x, codebooks=None):
    base = name.split(":")[0]
    if base.startswith("mx"):
        return mx(name, x)
    if base in ("nvfp4", "nvint4"):
        return nv(name, x)
    if base.startswith("int"):
        return int_group(name, x)
    if base.startswith("afpq"):
        return afpq(name, x)
    if base == "bcq":
        return bcq(name, x, codebooks)
    raise SystemExit(f"formats_reference.py: unknown format {name}")


# ---------------------------------------------------------------------------------------------
# Test inputs.

def minifloat_grid(elem):
    """Every non-negative finite value of a minifloat."""
    vals = [k * 2.0 ** (elem.emin - elem.mbits) for k in range(1 << elem.mbits)]
    e = elem.emin
    while True:
        for m in range(1 << elem.mbits):
            v = (1 + m / (1 << elem.mbits)) * 2.0 ** e
            if v > elem.max:
                return np.array(vals)
            vals.append(v)
        e += 1


def test_codebooks(name):
    """nc sorted codebooks on the e-bit grid with different spacings and offsets (so that
    midpoints between entries occur), the last a copy of the first (a selector tie)."""
    _, opts = parse(name)
    nc, n, eb = int(opts.get("nc", 16)), 1 << int(opts.get("b", 4)), int(opts.get("e", 6))
    top = (1 << (eb - 1)) - 1
    books = []
    for c in range(nc):
        step = max(1, min(c % 4 + 1, (2 * top) // (n - 1)))
        start = -((n - 1) * step) // 2 + (c // 4) % 2
        books.append(np.clip(start + step * np.arange(n), -top, top))
    books[-1] = books[0]
    return np.array(books, dtype=np.float64).reshape(nc, n)


def tie_grid(name, books):
    """(unit, grid): the value a block's amax is set to in units of its scale, and the
    non-negative scaled-domain grid whose points and midpoints fill the block."""
    base, opts = parse(name)
    if base == "mxint8":
        return 127 / 64, np.arange(128) / 64.0
    if base in MX_ELEMENTS:
        elem = MX_ELEMENTS[base]
        return elem.max, minifloat_grid(elem)
    if base == "nvfp4" or base.startswith("afpq"):
        return 6.0, minifloat_grid(E2M1)
    if base == "nvint4":
        return 7.0, np.arange(8.0)
    if base == "bcq":
        eb = int(opts.get("e", 6))
        return float((1 << (eb - 1)) - 1), np.unique(np.abs(books))
    bits = int(base.split("_")[0][3:])
    if base.endswith("_asym"):
        return None, np.arange(float(1 << bits))
    return float((1 << (bits - 1)) - 1), np.arange(float(1 << (bits - 1)))


def block_size(name):
    base, opts = parse(name)
    if base == "bcq":
        return int(opts.get("la", 64))
    if "block" in opts:
        return int(opts["block"])
    if base.startswith("mx"):
        return 32
    if base.startswith("nv"):
        return 16
    return int(base.split("_g")[1].split("_")[0])


def ties_input(name, rows, cols, rng, books):
    """Blocks whose scale is a power of two 2^e and whose values are grid points and
    midpoints times 2^e. NVFP4/NVINT4/BCQ-UE4M3: x[0, 0] fixes the per-tensor scale g = 1."""
    base, opts = parse(name)
    block = block_size(name)
    unit, grid = tie_grid(name, books)
    points = np.concatenate([grid, (grid[1:] + grid[:-1]) / 2])
    x = np.zeros((rows, -(-cols // block) * block))
    two_level = base.startswith("nv") or (base == "bcq" and opts.get("scale", "ue4m3") == "ue4m3")
    for r in range(rows):
        for j in range(x.shape[1] // block):
            e = int(rng.integers(-6, 9)) if two_level else int(rng.integers(-20, 15))
            blk = rng.choice(points, block) * rng.choice([-1.0, 1.0], block)
            if unit is None:  # asymmetric: lo = -2^(b-1), hi = 2^(b-1) - 1, zero point 2^(b-1)
                half = len(grid) // 2
                blk = (rng.choice(points[points < len(grid) - 1], block) - half)
                blk[:2] = [-half, half - 1]
            elif base.startswith("afpq"):  # each side has its own scale
                e_neg = int(rng.integers(-20, 15))
                blk = np.where(blk < 0, blk * 2.0 ** (e_neg - e), blk)
                blk[:2] = [unit, -unit * 2.0 ** (e_neg - e)]
            else:
                blk[0] = unit * rng.choice([-1.0, 1.0])
            x[r, j * block:(j + 1) * block] = blk * 2.0 ** e
    if two_level:
        x[0, 0] = unit * 448.0
    return x[:, :cols]


def mixed_input(rows, cols, rng):
    x = np.zeros((rows, cols))
    for r in range(rows):
        scale = 2.0 ** int(rng.integers(-30, 31))
        kind = r % 10
        if kind == 0:
            x[r] = rng.standard_normal(cols) * scale
        elif kind == 1:
            x[r] = rng.laplace(size=cols) * scale
        elif kind == 2:  # heavy tails
            x[r] = rng.standard_normal(cols) / (np.abs(rng.standard_normal(cols)) + 1e-2)
        elif kind == 3:  # small multiples of a power of two: ties of most grids
            x[r] = rng.integers(-48, 49, cols) * 0.0625 * scale
        elif kind == 4:  # a zero block first, then skewed values
            x[r] = np.where(np.arange(cols) < 64, 0.0, rng.standard_normal(cols) + 0.5)
        elif kind == 5:  # amax just below a power of two in every 16 values
            x[r] = rng.standard_normal(cols) * 0.3
            x[r, ::16] = np.nextafter(np.float32(2.0 ** (r % 7 - 3)), np.float32(0))
        elif kind == 6:  # FP32 subnormals: scale underflow
            x[r] = rng.standard_normal(cols) * 1e-41
        elif kind == 7:  # near FLT_MAX: scale overflow and saturation
            x[r] = rng.standard_normal(cols) * 3e37
        elif kind == 8:  # one-sided blocks
            x[r] = np.abs(rng.standard_normal(cols)) * (1 if r % 20 < 10 else -1) * scale
        else:
            x[r] = rng.standard_normal(cols)
    x[3, 5] = np.nan
    x[13, 70] = np.inf
    x[19, cols - 1] = -np.inf  # in the partial last block
    return x


def generate(kind, name, rows, cols, outdir):
    rng = np.random.default_rng(17)
    books = None
    if name.startswith("bcq"):
        books = test_codebooks(name)
        books.astype("<f4").tofile(os.path.join(outdir, "codebooks.f32"))
    x = ties_input(name, rows, cols, rng, books) if kind == "ties" else mixed_input(rows, cols, rng)
    x.astype("<f4").tofile(os.path.join(outdir, "input.f32"))


def write_reference(name, rows, cols, src, outdir, codebooks=None):
    x = np.fromfile(src, dtype="<f4").astype(np.float64).reshape(rows, cols)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        r = quantize(name, x, codebooks)
    values = r.values.reshape(rows, -1)[:, :cols]
    values.astype("<f4").tofile(os.path.join(outdir, "values.f32"))
    r.codes.reshape(rows, -1).astype("<i4").tofile(os.path.join(outdir, "codes.i32"))
    np.asarray(r.scales, dtype=np.uint8).tofile(os.path.join(outdir, "scales.u8"))
    np.asarray(r.aux, dtype=np.uint8).tofile(os.path.join(outdir, "aux.u8"))
    np.array([r.tensor_scale], dtype="<f4").tofile(os.path.join(outdir, "tensor.f32"))


def dequantized(name, path, rows, cols):
    x = np.fromfile(path, dtype="<f4").astype(np.float64).reshape(rows, cols)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return quantize(name, x).values.reshape(rows, -1)[:, :cols].astype(np.float32).astype(np.float64)


def main():
    if sys.argv[1] == "gemm":
        name, m, n, k, xs, ws, out = sys.argv[2:9]
        x = dequantized(name, xs, int(m), int(k))
        w = dequantized(name, ws, int(n), int(k))
        np.concatenate([(x @ w.T).ravel(), (np.abs(x) @ np.abs(w).T).ravel()]).astype("<f8").tofile(out)
        return
    if sys.argv[1] == "cases":
        rows, cols, outdir = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        for i, case in enumerate(sys.argv[5:]):
            kind, name = case.split(":", 1)
            d = os.path.join(outdir, str(i))
            os.makedirs(d, exist_ok=True)
            generate(kind, name, rows, cols, d)
            books = os.path.join(d, "codebooks.f32") if name.startswith("bcq") else None
            write_reference(name, rows, cols, os.path.join(d, "input.f32"), d, books)
        return
    name, rows, cols, src, outdir = sys.argv[1:6]
    write_reference(name, int(rows), int(cols), src, outdir,
                    sys.argv[6] if len(sys.argv) > 6 else None)


if __name__ == "__main__":
    main()

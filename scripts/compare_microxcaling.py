#!/usr/bin/env python3
"""Compares nibble's MX quantize-dequantize with Microsoft's microxcaling, bit for bit.

usage: compare_microxcaling.py MICROXCALING_CHECKOUT [NIBBLE_BINARY]

Needs PyTorch (Debian: python3-torch) and a checkout of github.com/microsoft/microxcaling;
neither is a nibble dependency, so this is run by hand and its result recorded in
tests/reference/README.md. microxcaling runs in its pure-PyTorch mode (custom_cuda=False)
with round='even', block 32, axis -1, no FP32 subnormal flushing.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

FORMATS = {  # nibble name -> microxcaling element format
    "mxfp4": "fp4_e2m1",
    "mxfp6_e2m3": "fp6_e2m3",
    "mxfp6_e3m2": "fp6_e3m2",
    "mxfp8_e4m3": "fp8_e4m3",
    "mxfp8_e5m2": "fp8_e5m2",
    "mxint8": "int8",
}


def inputs(rng):
    """Row groups: name -> float32 matrix with 32-multiple columns."""
    rows, cols = 256, 1024
    scale = np.exp2(rng.integers(-30, 30, size=(rows, 1))).astype(np.float32)
    groups = {
        "gaussian": (rng.standard_normal((rows, cols)) * scale).astype(np.float32),
        "laplace": (rng.laplace(size=(rows, cols)) * scale).astype(np.float32),
        "student-t": rng.standard_t(3, size=(rows, cols)).astype(np.float32),
        "ties": (rng.integers(-24, 24, size=(rows, cols)) * 0.125 * scale).astype(np.float32),
        "zero-blocks": np.where(np.arange(cols) % 64 < 32, 0, rng.standard_normal((rows, cols))).astype(np.float32),
        "tiny-huge": (rng.standard_normal((rows, cols)) * np.where(np.arange(cols) < 512, 1e-41, 3e37)).astype(np.float32),
    }
    below = (rng.standard_normal((rows, cols)) * 0.3).astype(np.float32)
    below[:, ::32] = np.nextafter(np.exp2(rng.integers(-5, 5, size=(rows, 1))).astype(np.float32), np.float32(0))
    groups["amax-2^k(1-2^-24)"] = below
    return groups


def run_microxcaling(x, elem):
    import torch
    from mx.mx_ops import _quantize_mx
    y = _quantize_mx(torch.from_numpy(x.copy()), 8, elem, shared_exp_method="max", axes=[-1],
                     block_size=32, round="even", flush_fp32_subnorms=False, custom_cuda=False)
    return y.numpy()


def run_nibble(binary, x, fmt, tmp):
    src, dst = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
    np.save(src, x)
    subprocess.run([binary, "quantize", "--format", fmt, "--in", src, "--out", dst],
                   check=True, stdout=subprocess.DEVNULL)
    return np.load(dst)


def main():
    checkout = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(__file__), "..", "build", "bin", "nibble")
    sys.path.insert(0, checkout)
    rng = np.random.default_rng(20261124)
    groups = inputs(rng)
    print(f"{'format':<12} {'inputs':<20} {'values':>8} {'equal':>8} {'+-0 only':>9} {'differ':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, elem in FORMATS.items():
            for name, x in groups.items():
                a = run_nibble(binary, x, fmt, tmp)
                b = run_microxcaling(x, elem)
                same_bits = (a.view(np.uint32) == b.view(np.uint32)) | (np.isnan(a) & np.isnan(b))
                zero_sign = ~same_bits & (a == 0) & (b == 0)
                differ = ~same_bits & ~zero_sign
                print(f"{fmt:<12} {name:<20} {x.size:>8} {int(same_bits.sum()):>8} "
                      f"{int(zero_sign.sum()):>9} {int(differ.sum()):>7}")
                if differ.any():
                    i = np.argwhere(differ)[0]
                    r, c = int(i[0]), int(i[1])
                    blk = x[r, c // 32 * 32:c // 32 * 32 + 32]
                    print(f"    first: x={x[r, c]!r} nibble={a[r, c]!r} microxcaling={b[r, c]!r} "
                          f"block amax={np.max(np.abs(blk))!r}")


if __name__ == "__main__":
    main()

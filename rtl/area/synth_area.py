#!/usr/bin/env python3
"""Yosys area flow for nibble's RTL units: regenerates rtl/area/area.json.

usage: synth_area.py [--only CONFIG] [--out FILE] [--jobs N]   (run from anywhere; needs yosys)
       CONFIG: a configuration of rtl/configs.txt, or unit:PARAM=value:... (dpu_mx:A_FMT=3:BLOCK=64)
       synth_area.py --markdown                     (README tables from area.json)

Each configuration of rtl/configs.txt is synthesized flattened with Yosys' generic `synth`
(internal gate library), and its cell counts, the `stat -tech cmos` transistor estimate, the
flip-flop count, a NAND2-equivalent gate count and the logic depth (the longest
topological path in cells between registers or ports, Yosys `ltp -noff`) are recorded. The NAND2 weights are the
areas of the NanGate 45 nm Open Cell Library X1 cells divided by NAND2_X1 (0.798 um^2):
  INV 0.532 -> 0.67, NAND2/NOR2 0.798 -> 1.00, AND2/OR2/AOI21/OAI21 1.064 -> 1.33,
  AOI22/OAI22 1.330 -> 1.67, XOR2/XNOR2 1.596 -> 2.00, MUX2 1.862 -> 2.33,
  DFF_X1 4.522 -> 5.67, plus a MUX2 (2.33) for a flip-flop with enable and an AND2 (1.33)
  for one with a synchronous reset.
`sources_fingerprint` (FNV-1a 64 over the unit sources and configs.txt) lets a test check
that area.json matches the RTL it was made from.
"""
import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile

RTL = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS = os.path.join(RTL, "units")

GATE_WEIGHTS = {
    "$_NOT_": 0.67, "$_NAND_": 1.0, "$_NOR_": 1.0, "$_AND_": 1.33, "$_OR_": 1.33,
    "$_ANDNOT_": 1.33, "$_ORNOT_": 1.33, "$_AOI3_": 1.33, "$_OAI3_": 1.33,
    "$_AOI4_": 1.67, "$_OAI4_": 1.67, "$_XOR_": 2.0, "$_XNOR_": 2.0, "$_MUX_": 2.33,
}
DFF = 5.67
DFF_ENABLE = 2.33
DFF_SYNC_RESET = 1.33


def cell_weight(cell):
    if cell in GATE_WEIGHTS:
        return GATE_WEIGHTS[cell]
    m = re.match(r"\$_(S?)DFF(C?)(E?)_", cell)
    if m:
        return DFF + (DFF_ENABLE if m.group(3) else 0) + (DFF_SYNC_RESET if m.group(1) else 0)
    raise SystemExit(f"synth_area.py: no NAND2 weight for cell {cell}; add it to GATE_WEIGHTS")


def fingerprint():
    """FNV-1a 64 over (name, contents) of every unit source and configs.txt, sorted by name."""
    h = 0xCBF29CE484222325
    paths = sorted(os.listdir(UNITS))
    files = [(n, os.path.join(UNITS, n)) for n in paths] + [("configs.txt", os.path.join(RTL, "configs.txt"))]
    for name, path in files:
        for byte in name.encode() + b"\0" + open(path, "rb").read():
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def configurations():
    for line in open(os.path.join(RTL, "configs.txt")):
        if line[:1].isalpha():
            unit, name, a_format, b_format, *parameters = line.split()
            yield f"{unit}:a={a_format}:b={b_format}", unit, dict(p.split("=") for p in parameters)


# Elements per cycle of a unit configuration (its BLOCK or GROUP parameter, else the default).
DEFAULT_LANES = {"dpu_mx": 32, "dpu_nv": 16, "dpu_int": 32, "dpu_bcq": 64}


def synthesis_script(unit, parameters):
    """The Yosys commands that read the units and synthesize one configuration flattened."""
    sources = " ".join(os.path.join(UNITS, f) for f in sorted(os.listdir(UNITS)) if f.endswith(".v"))
    chparam = " ".join(f"-set {k} {v}" for k, v in parameters.items())
    return f"read_verilog -I {UNITS} {sources}; chparam {chparam} {unit}; synth -flatten -top {unit}"


def synthesize(unit, parameters):
    with tempfile.TemporaryDirectory() as tmp:
        stat, ltp = os.path.join(tmp, "stat.txt"), os.path.join(tmp, "ltp.txt")
        script = f"{synthesis_script(unit, parameters)}; tee -q -o {stat} stat -tech cmos; tee -q -o {ltp} ltp -noff"
        subprocess.run(["yosys", "-q", "-p", script], check=True, stdout=subprocess.DEVNULL)
        text = open(stat).read()
        depth = int(re.search(r"Longest topological path in \S+ \(length=(\d+)\)", open(ltp).read()).group(1))
    cells = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\$\S+)\s+(\d+)$", text, re.M)}
    transistors = int(re.search(r"Estimated number of transistors:\s+(\d+)", text).group(1))
    flip_flops = sum(n for c, n in cells.items() if "DFF" in c)
    nand2 = sum(n * cell_weight(c) for c, n in cells.items())
    lanes = int(parameters.get("BLOCK", parameters.get("GROUP", parameters.get("LA", DEFAULT_LANES[unit]))))
    return {"lanes": lanes, "parameters": parameters, "cells": cells,
            "cell_count": sum(cells.values()), "transistors": transistors,
            "flip_flops": flip_flops, "logic_depth": depth, "nand2_eq": round(nand2, 1),
            "nand2_eq_per_lane": round(nand2 / lanes, 1)}


# The README's matched-lane comparison: one 16-lane configuration per format.
MATCHED = [("int4", "dpu_int:a=int4_g16:b=int4_g16"), ("nvint4", "dpu_nv:a=nvint4:b=nvint4"),
           ("nvfp4", "dpu_nv:a=nvfp4:b=nvfp4"), ("mxfp4", "dpu_mx:a=mxfp4:block=16:b=mxfp4:block=16"),
           ("bcq", "dpu_bcq:a=bcq:la=16:b=bcq:la=16"),
           ("mxfp8 (E4M3)", "dpu_mx:a=mxfp8_e4m3:block=16:b=mxfp8_e4m3:block=16"),
           ("mxint8", "dpu_mx:a=mxint8:block=16:b=mxint8:block=16")]


def markdown(path):
    units = json.load(open(path))["units"]
    header = ("| format | configuration | lanes | cells | transistors | flip-flops | NAND2 eq. | "
              "NAND2 eq. per lane | logic depth |\n|---|---|---|---|---|---|---|---|---|")

    def row(label, key):
        u = units[key]
        return (f"| {label} | `{key}` | {u['lanes']} | {u['cell_count']:,} | {u['transistors']:,} | "
                f"{u['flip_flops']:,} | {u['nand2_eq']:,.0f} | {u['nand2_eq_per_lane']:,.0f} | {u['logic_depth']} |")

    print("At matched lane counts (16 elements per cycle; per lane = per element per cycle):\n")
    print(header)
    for label, key in MATCHED:
        print(row(label, key))
    print("\nEvery other configuration of `rtl/configs.txt`:\n")
    print(header)
    matched = {key for _, key in MATCHED}
    for key in sorted(units):
        if key not in matched:
            print(row(key.split(":")[0], key))


def write_document(path, doc):
    """The checked-in JSON layout (area.json, activity.json): sorted keys, one-space indent."""
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="synthesize one configuration and print it")
    parser.add_argument("--out", default=os.path.join(RTL, "area", "area.json"))
    parser.add_argument("--markdown", action="store_true", help="print the README tables")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="configurations synthesized at once")
    args = parser.parse_args()
    if args.markdown:
        markdown(args.out)
        return
    version = subprocess.run(["yosys", "-V"], check=True, capture_output=True, text=True).stdout.strip()
    chosen = [(name, unit, parameters) for name, unit, parameters in configurations()
              if not args.only or name == args.only]
    for name, _, _ in chosen:
        print(f"synthesizing {name}", file=sys.stderr)
    with multiprocessing.Pool(max(1, min(args.jobs, len(chosen) or 1))) as pool:
        results = pool.starmap(synthesize, [(unit, parameters) for _, unit, parameters in chosen])
    units = {name: result for (name, _, _), result in zip(chosen, results)}
    if args.only:
        if not units:  # not a listed configuration: "unit:PARAM=value:..." with Verilog parameters
            unit, *fields = args.only.split(":")
            if unit not in DEFAULT_LANES or not all(re.fullmatch(r"[A-Z_]+=\d+", f) for f in fields):
                known = ", ".join(n for n, *_ in configurations())
                raise SystemExit(f"synth_area.py: '{args.only}' is neither a configuration ({known}) "
                                 f"nor a unit ({', '.join(DEFAULT_LANES)}) with PARAM=value parameters")
            units[args.only] = synthesize(unit, dict(f.split("=") for f in fields))
        print(json.dumps(units[args.only], indent=1))
        return
    doc = {"schema_version": 2, "yosys_version": version, "sources_fingerprint": fingerprint(),
           "nand2_weights": {**GATE_WEIGHTS, "DFF": DFF, "DFF enable": DFF_ENABLE,
                             "DFF sync reset": DFF_SYNC_RESET},
           "units": units}
    write_document(args.out, doc)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

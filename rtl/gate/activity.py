#!/usr/bin/env python3
"""Regenerates rtl/gate/activity.json: gate-level switching activity per configuration and source.

usage: activity.py [--configs unit:name,...] [--lm CHECKPOINT] [--block-ops N] [--build DIR]
       (run from anywhere; needs yosys, verilator and the project's build dependencies)
       activity.py --markdown [--build DIR]   (the README table: area and depth from area.json,
                                               energies from `nibble energy --measured`)

Configures a build in DIR (default build-gate/) with gate-level models of the chosen
configurations of rtl/configs.txt (all by default; -DNIBBLE_GATE_CONFIGS, -O0: compiling
gate-level C++ costs more than running it), builds `nibble`,
and runs `nibble energy --json` for every configuration on every operand source: random codes,
the synthetic llm-act and llm-weight tensors and the real activations and weights of a
llama2.c model (recorded as lm:<checkpoint name>). Each run is also checked bit for bit against
the golden model; a mismatch stops the script. Only the measured activity (toggles per block
operation by cell type, cycles per block operation) is recorded: energies are computed from
it with sim/configs/energy_45nm.yaml's gate energies wherever it is used. `sources_fingerprint`
is the area flow's (synth_area.fingerprint), checked by tests/rtl/area_test.cpp.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

RTL = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(RTL)
sys.path.insert(0, os.path.join(RTL, "area"))
import synth_area  # noqa: E402


def markdown(args):
    """Per measured configuration: area, depth and energy per block op by operand source."""
    activity = json.load(open(args.out))["units"]
    area = json.load(open(os.path.join(RTL, "area", "area.json")))["units"]
    nibble = os.path.join(args.build, "bin", "nibble")
    sources = sorted(next(iter(activity.values())), key=lambda k: ["random", "llm-act", "llm-weight"].index(k)
                     if k in ("random", "llm-act", "llm-weight") else 3)
    print("| configuration | lanes | NAND2 eq. | logic depth | " + " | ".join(f"pJ/op {s}" for s in sources) +
          f" | pJ per element ({sources[-1]}) |")
    print("|---|---|---|---|" + "---|" * len(sources) + "---|")
    for unit in sorted(activity, key=lambda u: (area[u]["lanes"], u)):
        energies = []
        for source in sources:
            run = subprocess.run([nibble, "energy", "--unit", unit, "--operands", source, "--measured"],
                                 check=True, capture_output=True, text=True).stdout
            energies.append(float(run.splitlines()[1].split()[4]))
        u = area[unit]
        print(f"| `{unit}` | {u['lanes']} | {u['nand2_eq']:,.0f} | {u['logic_depth']} | " +
              " | ".join(f"{e:.2f}" for e in energies) + f" | {energies[-1] / u['lanes']:.3f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", help="unit:name pairs of rtl/configs.txt (default: all)")
    parser.add_argument("--lm", default=os.path.join(os.path.dirname(ROOT), "shared", "lm", "babyllama-361.bin"))
    parser.add_argument("--block-ops", type=int, default=2048)
    parser.add_argument("--build", default=os.path.join(ROOT, "build-gate"))
    parser.add_argument("--out", default=os.path.join(RTL, "gate", "activity.json"))
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    args = parser.parse_args()
    if args.markdown:
        markdown(args)
        return
    lines = [line.split() for line in open(os.path.join(RTL, "configs.txt")) if line[:1].isalpha()]
    chosen = args.configs.split(",") if args.configs else [f"{f[0]}:{f[1]}" for f in lines]
    names = {f"{f[0]}:{f[1]}": f"{f[0]}:a={f[2]}:b={f[3]}" for f in lines}
    unknown = [c for c in chosen if c not in names]
    if unknown:
        raise SystemExit(f"activity.py: unknown configurations {unknown} (known: {', '.join(names)})")
    start = time.time()
    subprocess.run(["cmake", "-S", ROOT, "-B", args.build, "-DCMAKE_BUILD_TYPE=Release",
                    f"-DNIBBLE_GATE_CONFIGS={';'.join(chosen)}", "-DNIBBLE_GATE_OPT=-O0"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", args.build, "-j2", "--target", "nibble"], check=True, stdout=subprocess.DEVNULL)
    print(f"built in {time.time() - start:.0f} s", file=sys.stderr)
    lm_key = "lm:" + os.path.splitext(os.path.basename(args.lm))[0]
    sources = [("random", "random"), ("llm-act", "llm-act"), ("llm-weight", "llm-weight"), (lm_key, "lm:" + args.lm)]
    units = {}
    for config in chosen:
        for key, operands in sources:
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "activity.json")
                run = subprocess.run([os.path.join(args.build, "bin", "nibble"), "energy", "--unit", names[config],
                                      "--operands", operands, "--block-ops", str(args.block_ops), "--json", out],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    raise SystemExit(f"activity.py: {names[config]} on {key}: {run.stdout}{run.stderr}")
                entry = json.load(open(out))
            print(f"{names[config]} on {key}: {run.stdout.splitlines()[1]}", file=sys.stderr)
            units.setdefault(names[config], {})[key] = {"cycles_per_op": entry["cycles_per_op"],
                                                        "cells": entry["cells"]}
    version = subprocess.run(["yosys", "-V"], check=True, capture_output=True, text=True).stdout.strip()
    doc = {"schema_version": 1, "yosys_version": version, "sources_fingerprint": synth_area.fingerprint(),
           "block_ops": args.block_ops, "seed": 1, "units": units}
    synth_area.write_document(args.out, doc)
    print(f"wrote {args.out} in {time.time() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

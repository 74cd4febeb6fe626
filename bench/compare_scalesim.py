#!/usr/bin/env python3
"""Compares `nibble sim --scalesim` with SCALE-Sim v3 itself on random systolic configurations.

For each case (dataflow, bandwidth mode, array shape, SRAM sizes, bandwidths and a few GEMMs
whose sizes are not multiples of the array) it writes a SCALE-Sim .cfg and GEMM topology, runs
SCALE-Sim (scalesim/scale.py from a checkout of scalesim-project/scale-sim-v3; it needs
python3-numpy, -pandas, -tqdm and -absl) and nibble on the same files, and compares the cycle
columns of COMPUTE_REPORT.csv. Prints a Markdown table and the worst relative error; exits 1
if any column differs by more than --tolerance.

    bench/compare_scalesim.py --scalesim-src ~/scale-sim-v3 --nibble build/bin/nibble --cases 40
"""
import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile

CONFIG = """[general]
run_name = {name}

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {ifmap_kb}
FilterSramSzkB: {filter_kb}
OfmapSramSzkB: {ofmap_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : {bandwidth}
Dataflow : {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {ifmap_bw}
IfmapSRAMBankNum: {ifmap_banks}
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {filter_bw}
FilterSRAMBankNum: {filter_banks}
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: {mode}
UseRamulatorTrace: False
"""

COLUMNS = ["Total Cycles (incl. prefetch)", "Total Cycles", "Stall Cycles"]


def read_report(path):
    with open(path) as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    header = [h.strip() for h in rows[0]]
    return [{h: float(v) for h, v in zip(header, row) if h} for row in rows[1:] if row]


def random_case(rng, index):
    rows = rng.choice([4, 8, 16, 32])
    cols = rng.choice([4, 8, 16, 32])
    bw = rng.choice([2, 4, 10, 20, 50])
    return {
        "name": f"case{index}",
        "rows": rows,
        "cols": cols,
        "ifmap_kb": rng.choice([1, 2, 4, 16, 64]),
        "filter_kb": rng.choice([1, 2, 4, 16, 64]),
        "ofmap_kb": rng.choice([1, 2, 4, 16, 64]),
        "bandwidth": rng.choice([1, 5, 10, 32, 64]),
        "dataflow": rng.choice(["os", "ws", "is"]),
        "ifmap_bw": bw,
        "ifmap_banks": rng.choice([d for d in (1, 2, 5, 10) if bw % d == 0]),
        "filter_bw": bw,
        "filter_banks": 1,
        "mode": rng.choice(["USER", "CALC"]),
        "gemms": [(rng.randint(1, 200), rng.randint(1, 200), rng.randint(1, 200)) for _ in range(3)],
    }


def run_case(case, args, workdir):
    cfg = os.path.join(workdir, case["name"] + ".cfg")
    topo = os.path.join(workdir, case["name"] + ".csv")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(**case))
    with open(topo, "w") as f:
        f.write("Layer, M, N, K,\n")
        for i, (m, n, k) in enumerate(case["gemms"]):
            f.write(f"g{i}, {m}, {n}, {k},\n")
    env = dict(os.environ, PYTHONPATH=args.scalesim_src)
    subprocess.run([sys.executable, os.path.join(args.scalesim_src, "scalesim", "scale.py"), "-c", cfg,
                    "-t", topo, "-i", "gemm", "-p", workdir, "-s", "N"],
                   check=True, env=env, stdout=subprocess.DEVNULL, cwd=args.scalesim_src)  # it opens ./layouts
    ours = os.path.join(workdir, case["name"] + "_nibble.csv")
    subprocess.run([args.nibble, "sim", "--scalesim", cfg, "--gemms", topo, "--csv", ours], check=True,
                   stdout=subprocess.DEVNULL)
    return read_report(os.path.join(workdir, case["name"], "COMPUTE_REPORT.csv")), read_report(ours)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalesim-src", required=True, help="scale-sim-v3 checkout")
    parser.add_argument("--nibble", default="build/bin/nibble")
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    args.nibble = os.path.abspath(args.nibble)
    rng = random.Random(args.seed)
    worst = 0.0
    print("| case | dataflow | mode | array | SRAM KiB (if/fil/of) | BW (if/of) | GEMM M,N,K | "
          "SCALE-Sim cycles (incl. prefetch / total / stall) | nibble | max rel. error |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as workdir:
        for index in range(args.cases):
            case = random_case(rng, index)
            theirs, ours = run_case(case, args, workdir)
            for (m, n, k), t, o in zip(case["gemms"], theirs, ours):
                error = max(abs(o[c] - t[c]) / max(t[c], 1.0) for c in COLUMNS)
                worst = max(worst, error)
                print(f"| {case['name']} | {case['dataflow']} | {case['mode']} | {case['rows']}x{case['cols']} | "
                      f"{case['ifmap_kb']}/{case['filter_kb']}/{case['ofmap_kb']} | "
                      f"{case['ifmap_bw']}/{case['bandwidth']} | {m},{n},{k} | "
                      + " / ".join(str(int(t[c])) for c in COLUMNS) + " | "
                      + " / ".join(str(int(o[c])) for c in COLUMNS) + f" | {error:.2%} |", flush=True)
    print(f"\nworst relative error over all cycle columns: {worst:.3%}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())

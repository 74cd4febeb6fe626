#!/usr/bin/env python3
"""Gate-level netlist of one RTL unit configuration, for switching-activity simulation.

usage: gate_netlist.py --config CONFIG --module NAME --verilog OUT.v --cells OUT.inc --words OUT.inc
       CONFIG: a configuration of rtl/configs.txt (dpu_nv:a=nvfp4:b=nvfp4)
       gate_netlist.py --json NETLIST.json --top TOP --module NAME --verilog OUT.v --cells OUT.inc --words OUT.inc
       (a netlist already in Yosys JSON, e.g. the hand-built one of tests/rtl/)

The configuration is synthesized exactly as the area flow does (synth_area.synthesis_script:
Yosys `synth -flatten`, internal gate cells), written as Yosys JSON and rewritten here as a
Verilog module NAME with the unit's ports plus 32-bit outputs `cells_w0`, `cells_w1`, ... that
carry the output of every cell: the cells of one type are consecutive and padded with constant
zeros to whole words, so a harness counts a type's output toggles with a popcount per word.
(One port per word: Verilator builds one wide port with a wide concatenation per word, which
costs time quadratic in the cell count.) The --cells file lists the types as C++ initializers,
one `{"$_AND_", first_word, words, cells},` line each; the --words file the ports' addresses
in a Verilated `model` (`&model.cells_w0,` ...).
Each cell becomes one Verilog expression or flip-flop, following Yosys' own simulation models
(/usr/share/yosys/simcells.v); the co-simulation of the result against the golden model
checks the netlist and this rewrite together.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "area"))
import synth_area  # noqa: E402  (the one synthesis script and the configuration list)

GATES = {
    "$_NOT_": "~{A}", "$_AND_": "{A} & {B}", "$_NAND_": "~({A} & {B})", "$_OR_": "{A} | {B}",
    "$_NOR_": "~({A} | {B})", "$_XOR_": "{A} ^ {B}", "$_XNOR_": "~({A} ^ {B})",
    "$_ANDNOT_": "{A} & ~{B}", "$_ORNOT_": "{A} | ~{B}", "$_MUX_": "{S} ? {B} : {A}",
    "$_AOI3_": "~(({A} & {B}) | {C})", "$_OAI3_": "~(({A} | {B}) & {C})",
    "$_AOI4_": "~(({A} & {B}) | ({C} & {D}))", "$_OAI4_": "~(({A} | {B}) & ({C} | {D}))",
}
# Flip-flops: $_DFF_P_, $_DFFE_PP_, $_SDFF_PN0_, $_SDFFE_PP0P_ (reset over enable) and
# $_SDFFCE_PP0P_ (enable over reset): clock, reset and enable polarities, reset value.
FLIP_FLOP = re.compile(r"\$_(S?)DFF(C?)(E?)_([PN])([PN]?)([01]?)([PN]?)_$")


def net(bit):
    return {"0": "1'b0", "1": "1'b1", "x": "1'b0", "z": "1'b0"}[bit] if isinstance(bit, str) else f"n{bit}"


def flip_flop(kind, pins):
    m = FLIP_FLOP.match(kind)
    if not m:
        raise SystemExit(f"gate_netlist.py: no model for cell {kind}")
    sync_reset, enable_first, enable, clock = m.group(1), m.group(2), m.group(3), m.group(4)
    edge = "posedge" if clock == "P" else "negedge"
    if sync_reset:
        reset_polarity, value = m.group(5), m.group(6)
        enable_polarity = m.group(7)
    else:
        reset_polarity, value, enable_polarity = "", "", m.group(5)
    q, d = pins["Q"], pins["D"]
    reset = f"{pins['R']} == 1'b{1 if reset_polarity == 'P' else 0}" if sync_reset else None
    active = f"{pins['E']} == 1'b{1 if enable_polarity == 'P' else 0}" if enable else None
    if reset and active and enable_first:
        body = f"if ({active}) {q} <= {reset} ? 1'b{value} : {d};"
    elif reset and active:
        body = f"if ({reset}) {q} <= 1'b{value}; else if ({active}) {q} <= {d};"
    elif reset:
        body = f"{q} <= {reset} ? 1'b{value} : {d};"
    elif active:
        body = f"if ({active}) {q} <= {d};"
    else:
        body = f"{q} <= {d};"
    return f"always @({edge} {pins['C']}) {body}"


def rewrite(netlist, top, module):
    m = netlist["modules"][top]
    declarations, lines, by_type = [], [], {}
    ports = []
    for name, port in m["ports"].items():
        width = len(port["bits"])
        ports.append(f"  {port['direction']} {'' if width == 1 else f'[{width - 1}:0] '}{name}")
        for i, bit in enumerate(port["bits"]):
            ref = name if width == 1 else f"{name}[{i}]"
            if port["direction"] == "input":
                declarations.append(f"wire {net(bit)};")
                lines.append(f"assign {net(bit)} = {ref};")
            else:
                lines.append(f"assign {ref} = {net(bit)};")
    for cell in m["cells"].values():
        kind = cell["type"]
        pins = {p: net(bits[0]) for p, bits in cell["connections"].items()}
        out = cell["connections"]["Q" if "Q" in pins else "Y"][0]
        by_type.setdefault(kind, []).append(net(out))
        if kind in GATES:
            declarations.append(f"wire {net(out)};")
            lines.append(f"assign {net(out)} = {GATES[kind].format(**pins)};")
        else:
            declarations.append(f"reg {net(out)};")
            lines.append(flip_flop(kind, pins))
    words, cells_inc, word = [], [], 0
    for kind in sorted(by_type):
        outputs = by_type[kind]
        count = -(-len(outputs) // 32)
        padded = outputs + ["1'b0"] * (32 * count - len(outputs))
        for w in range(count):
            words.append(f"assign cells_w{word + w} = {{{', '.join(reversed(padded[32 * w:32 * w + 32]))}}};")
        cells_inc.append(f'{{"{kind}", {word}, {count}, {len(outputs)}}},')
        word += count
    ports += [f"  output [31:0] cells_w{w}" for w in range(word)]
    verilog = (f"// Generated by rtl/gate/gate_netlist.py from Yosys' netlist of {top}; do not edit.\n"
               f"module {module} (\n" + ",\n".join(ports) + "\n);\n" +
               "\n".join(declarations + lines + words) + "\nendmodule\n")
    word_inc = "".join(f"&model.cells_w{w},\n" for w in range(word))
    return verilog, "\n".join(cells_inc) + "\n", word_inc


def synthesized(config):
    found = [(unit, p) for name, unit, p in synth_area.configurations() if name == config]
    if not found:
        known = ", ".join(n for n, *_ in synth_area.configurations())
        raise SystemExit(f"gate_netlist.py: unknown configuration '{config}' (known: {known})")
    unit, parameters = found[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "netlist.json")
        script = f"{synth_area.synthesis_script(unit, parameters)}; write_json {path}"
        subprocess.run(["yosys", "-q", "-p", script], check=True, stdout=subprocess.DEVNULL)
        return json.load(open(path))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")
    parser.add_argument("--json", help="rewrite this Yosys JSON netlist instead of synthesizing")
    parser.add_argument("--top", help="with --json: the module to rewrite")
    parser.add_argument("--module", required=True)
    parser.add_argument("--verilog", required=True)
    parser.add_argument("--cells", required=True)
    parser.add_argument("--words", required=True)
    args = parser.parse_args()
    if args.json:
        verilog, cells, words = rewrite(json.load(open(args.json)), args.top, args.module)
    else:
        verilog, cells, words = rewrite(synthesized(args.config), args.config.split(":")[0], args.module)
    with open(args.verilog, "w") as f:
        f.write(verilog)
    with open(args.cells, "w") as f:
        f.write(cells)
    with open(args.words, "w") as f:
        f.write(words)


if __name__ == "__main__":
    main()

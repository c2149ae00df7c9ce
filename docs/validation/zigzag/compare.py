#!/usr/bin/env python3
"""Side by side, per ResNet-18 layer: sparsesim's mapper (sparsesim_resnet18_<df>.csv, written by
`sparsesim run --set dataflow=<df> --set memory.keep_activations=false -f csv` on systolic-32x32:
ZigZag was run with every layer reading its input from DRAM, so sparsesim is too) against ZigZag's latency-optimal
mapping (resnet18_32x32.csv). Prints a Markdown table per dataflow; ratios are sparsesim / ZigZag."""
import csv, os, sys

here = os.path.dirname(os.path.abspath(__file__))

def rows(path):
    with open(os.path.join(here, path)) as f:
        return list(csv.DictReader(f))

zz = [r for r in rows("resnet18_32x32.csv") if r["sram_kb"] == "64" and r["opt"] == "latency"]
for df in ("ws", "os"):
    ss = {r["layer"]: r for r in rows(f"sparsesim_resnet18_{df}.csv") if r["layer"] != "TOTAL"}
    print(f"\n{df}: cycles and DRAM bytes (MB = 10^6 B), sparsesim / ZigZag\n")
    print("| layer | sparsesim cycles | ZigZag cycles | ratio | sparsesim MB | ZigZag MB | ratio | sparsesim mapping |")
    print("|---|---|---|---|---|---|---|---|")
    tot = [0, 0, 0, 0]
    for z in (r for r in zz if r["dataflow"] == df):
        s = ss[z["layer"]]
        sc, zc = int(s["cycles"]), int(z["zigzag_latency_cycles"])
        sb = int(s["dram_read_bytes"]) + int(s["dram_write_bytes"])
        zb = int(z["zigzag_dram_total_bytes"])
        tot = [tot[0] + sc, tot[1] + zc, tot[2] + sb, tot[3] + zb]
        flag = " **" if abs(sc / zc - 1) > 0.2 or abs(sb / zb - 1) > 0.2 else ""
        print(f"| {z['layer']}{flag} | {sc:,} | {zc:,} | {sc/zc:.2f} | {sb/1e6:.2f} | {zb/1e6:.2f} | {sb/zb:.2f} | {s['mapping_order']} / {s['mapping_time_tile']} |")
    print(f"| **total** | {tot[0]:,} | {tot[1]:,} | {tot[0]/tot[1]:.2f} | {tot[2]/1e6:.2f} | {tot[3]/1e6:.2f} | {tot[2]/tot[3]:.2f} | |")

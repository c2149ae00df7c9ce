#!/usr/bin/python3
"""Run GenZ (Bambhaniya et al., github abhibambhaniya/GenZ-LLM-Analyzer) on the
issue-26 grid and write genz_results.csv and genz_operators.csv.

GenZ is imported from a source checkout given by --genz-src or $GENZ_SRC (the
directory holding GenZ/ and Systems/); nothing of it is copied here and it is
not modified. Use Debian's /usr/bin/python3 (numpy, pandas, matplotlib,
seaborn from Debian packages; see README.md).

What is run, per hardware x model x batch x prompt:
  TTFT = GenZ prefill_moddeling(input_tokens=P, batch_size=B)      (the prompt's prefill)
  TPOT = GenZ decode_moddeling(input_tokens=P, output_tokens=0,   (one decode step over a
                               batch_size=B, Bb=1)                  cache of P tokens)
with one chip (TP=EP=PP=1, so no Sync/collective operator exists), compute
and memory efficiency 1, and GenZ's own compute engine (per-operator roofline).
Bb=1 matters: decode_moddeling defaults to a beam size of 4.
"""
import argparse
import csv
import math
import os
import sys
import types
import warnings

# ---------------------------------------------------------------- hardware
# Units GenZ reads (GenZ/unit.py, class Unit, defaults of System/get_inference_system):
#   flops      : "Tflops", decimal  -> raw = value * 1e12 FLOP/s (System.op_per_sec = flops/2 MAC/s,
#                                      Operator.get_compute_time = MACs / op_per_sec)
#   *_mem_bw   : "GBsec", but BINARY -> raw = value * 2**30 B/s (Unit.binary_dicts['G'])
#   mem size   : "MB", binary        -> raw = value * 2**20 B
#   frequency  : "MHz", decimal      (only used for GenZ's 'Cycles' columns, never for time)
# So we pass bandwidth = bytes_per_s / 2**30 and memory = bytes / 2**20: GenZ then
# divides by exactly the bytes/s below. (GenZ's own 'TPUv5e' entry in
# Systems/system_configs.py says Memory_BW 820, which GenZ reads as 820 GiB/s =
# 880.5e9 B/s, and Memory_size 16 -> 16 GiB; we do not use it.)
HARDWARE = {
    # Google Cloud TPU v5e docs: 197 TFLOPS bf16, 16 GB HBM2e at 819 GB/s, 4 MXUs of 128x128.
    'tpu-v5e': dict(flops=197e12, bw=819e9, mem=16e9,
                    mhz=1500),  # clock: derived 197e12 / (4*128*128*2) = 1.503 GHz; cycles column only
    # sparsesim configs/llm-128x128.yaml: one 128x128 bf16 array at 1 GHz (2 FLOP per MAC),
    # one HBM3 stack 819.2 GB/s, 24 GB.
    'llm-128x128': dict(flops=128 * 128 * 2 * 1e9, bw=819.2e9, mem=24e9, mhz=1000),
}

# ---------------------------------------------------------------- models
# sparsesim zoo name -> GenZ model entry, and the Hugging Face config.json values
# the GenZ entry is checked against (hidden, layers, heads, kv heads, head_dim,
# intermediate, vocab, experts, top-k).
MODELS = {
    'llama-3.2-1b': ('meta-llama/Llama-3.2-1B',
                     dict(hidden_size=2048, num_decoder_layers=16, num_attention_heads=32,
                          num_key_value_heads=8, head_dim=64, intermediate_size=8192,
                          vocab_size=128256, num_experts=1, expert_top_k=1, num_ffi=2)),
    'llama-3.1-8b': ('meta-llama/Llama-3.1-8B',
                     dict(hidden_size=4096, num_decoder_layers=32, num_attention_heads=32,
                          num_key_value_heads=8, head_dim=128, intermediate_size=14336,
                          vocab_size=128256, num_experts=1, expert_top_k=1, num_ffi=2)),
    'mistral-7b': ('mistralai/Mistral-7B',
                   dict(hidden_size=4096, num_decoder_layers=32, num_attention_heads=32,
                        num_key_value_heads=8, head_dim=128, intermediate_size=14336,
                        vocab_size=32000, num_experts=1, expert_top_k=1, num_ffi=2)),
    'mixtral-8x7b': ('mistralai/Mixtral-8x7B',
                     dict(hidden_size=4096, num_decoder_layers=32, num_attention_heads=32,
                          num_key_value_heads=8, head_dim=128, intermediate_size=14336,
                          vocab_size=32000, num_experts=8, expert_top_k=2, num_ffi=2)),
}

# GenZ layer names -> sparsesim's operator classes (sparsesim JSON phases[].classes[].class).
# 'embeddings' (GenZ's one-hot GEMM of the input embedding) has no sparsesim counterpart.
CLASS_OF = {
    'embeddings': 'embedding', 'classifier': 'lm_head',
    'QKV': 'qkv', 'Out Proj': 'out_proj',
    'Logit': 'attention', 'Attend': 'attention', 'Logit Pre': 'attention', 'Attend Pre': 'attention',
    'Logit Suf': 'attention', 'Attend Suf': 'attention',
    'Gate': 'router', 'up+gate': 'ffn', 'down': 'ffn',
}


def stub_missing(name, **attrs):
    """Put a stand-in module in sys.modules for an import GenZ makes at module
    level but the analytical model never calls (plots, notebooks, Pareto sets)."""
    try:
        __import__(name)
        return False
    except ImportError:
        mod = types.ModuleType(name)
        for k, v in attrs.items():
            setattr(mod, k, v)
        sys.modules[name] = mod
        parent, _, child = name.rpartition('.')
        if parent in sys.modules:
            setattr(sys.modules[parent], child, mod)
        return True


def import_genz(src):
    os.environ.setdefault('MPLBACKEND', 'Agg')
    sys.path.insert(0, os.path.abspath(src))
    stubbed = []
    # GenZ/utils/plot_rooflines.py: 'from IPython.display import display' (debug printing only)
    for name, attrs in [('IPython', {}), ('IPython.display', {'display': print}),
                        # GenZ/LLM_inference/best_parallelization.py: Pareto filter of a
                        # parallelism sweep, not on the prefill/decode path
                        ('paretoset', {'paretoset': None}),
                        ('seaborn', {}), ('plotly', {}), ('tqdm', {'tqdm': lambda x, *a, **k: x})]:
        if stub_missing(name, **attrs):
            stubbed.append(name)
    import GenZ  # noqa: F401
    return stubbed


def genz_commit(src):
    # a `git archive` export has no .git: then $GENZ_COMMIT (README.md sets it)
    if os.environ.get('GENZ_COMMIT'):
        return os.environ['GENZ_COMMIT']
    try:
        import subprocess
        return subprocess.run(['git', '-C', src, 'rev-parse', 'HEAD'], capture_output=True,
                              text=True, check=True).stdout.strip()
    except Exception:
        return 'unknown'


def make_system(hw, capacity=True):
    from GenZ.system import System
    from GenZ.unit import Unit
    h = HARDWARE[hw]
    return System(Unit(),
                  flops=h['flops'] / 1e12,                 # Tflops, decimal
                  offchip_mem_bw=h['bw'] / 2**30,          # GenZ's "GB/s" is GiB/s: this gives h['bw'] B/s
                  off_chip_mem_size=(h['mem'] / 2**20) if capacity else float('inf'),  # binary MB
                  onchip_mem_bw=ONCHIP_BW,
                  frequency=h['mhz'], bits='bf16',
                  compute_efficiency=1, memory_efficiency=1, comm_efficiency=1,
                  num_nodes=1, external_mem_bw=0)


def check_model(ours, genz_name):
    from GenZ.Models import get_configs
    cfg = get_configs(genz_name)
    want = MODELS[ours][1]
    bad = {k: (getattr(cfg, k), v) for k, v in want.items() if getattr(cfg, k) != v}
    if bad:
        raise SystemExit(f'GenZ entry {genz_name} differs from Hugging Face for {ours}: {bad}')
    return cfg


def run_phase(fn, hw, **kw):
    """Run with the real capacity; if GenZ refuses (weights + KV > memory), run
    again with capacity ignored and say so."""
    try:
        return fn(system_name=make_system(hw, True), **kw), True
    except ValueError as e:
        if 'would not fit' not in str(e):
            raise
        return fn(system_name=make_system(hw, False), **kw), False


def per_op(out):
    """GenZ's per-operator rows, multiplied by their Repeat counts (GenZ's
    simplify_df), aggregated by layer name."""
    from GenZ.analyse_model import simplify_df
    df = simplify_df(out['model_df'])
    rows = {}
    for _, r in df.iterrows():
        lat = float(r['Latency (msec)'])
        name = r['Layer Name']
        if lat == 0:   # e.g. MoE experts no token uses in decode: GenZ gives them 0 time
            continue
        a = rows.setdefault(name, dict(layer=name, op_type=r['Op Type'], cls=CLASS_OF.get(name, name),
                                       latency_ms=0.0, compute_ms=0.0, memory_ms=0.0,
                                       bound=set(), num_ops_mflop=0.0, data_mb=0.0))
        a['latency_ms'] += lat
        a['compute_ms'] += float(r['Compute time (msec)'])
        a['memory_ms'] += float(r['Memory time (msec)'])
        a['num_ops_mflop'] += float(r['Num ops (MFLOP)'])
        a['data_mb'] += float(r['Total Data (MB)'])
        a['bound'].add(r['Bound'])
    for a in rows.values():
        a['bound'] = '/'.join(sorted(a['bound']))
    return list(rows.values())


def lm_head_last_token_ms(hw, gname, batch):
    """GenZ's own GEMM operator for the LM head over the last token of each
    sequence (B x 1 tokens), timed on the same system: what a prefill that
    only needs the first generated token runs."""
    from GenZ.Models import get_configs
    from GenZ.operators import GEMM
    from GenZ.unit import Unit
    cfg = get_configs(gname)
    # GenZ's row layout after get_model_df inserts the batch: [name, B, M=out, N=tokens, K=in]
    op = GEMM(['classifier', batch, cfg.vocab_size, 1, cfg.hidden_size, 1, 1, 0, 3], (1.0, 1.0, 1.0))
    return op.get_roofline(make_system(hw, False), Unit())['Latency (msec)']


def bound_share(ops, kind):
    tot = sum(o['latency_ms'] for o in ops)
    mem = sum(o['latency_ms'] for o in ops if o['bound'] == kind)
    return mem / tot if tot else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--genz-src', default=os.environ.get('GENZ_SRC'),
                    help='GenZ checkout (dir with GenZ/ and Systems/); default $GENZ_SRC')
    ap.add_argument('--out', default=os.path.join(here, 'genz_results.csv'))
    ap.add_argument('--ops-out', default=os.path.join(here, 'genz_operators.csv'))
    ap.add_argument('--hardware', nargs='+', default=list(HARDWARE))
    ap.add_argument('--models', nargs='+', default=list(MODELS))
    ap.add_argument('--batches', nargs='+', type=int, default=[1, 8, 32])
    ap.add_argument('--prompts', nargs='+', type=int, default=[512, 2048, 8192])
    ap.add_argument('--onchip-bw', type=float, default=float('inf'),
                    help='on-chip bandwidth in B/s for tensors GenZ pins on chip (decode activations, '
                         'prefill attention scores). Default inf: only DRAM bytes cost time, as in a '
                         'DRAM roofline. GenZ\'s System default is 18000 GiB/s.')
    args = ap.parse_args()
    if not args.genz_src:
        ap.error('give --genz-src or set GENZ_SRC')
    global ONCHIP_BW
    ONCHIP_BW = args.onchip_bw / 2**30   # GiB/s, as GenZ reads it

    stubbed = import_genz(args.genz_src)
    warnings.simplefilter('ignore')
    from GenZ import prefill_moddeling, decode_moddeling
    commit = genz_commit(args.genz_src)
    print(f'GenZ {commit} from {args.genz_src}; stubbed imports: {stubbed or "none"}', file=sys.stderr)

    fields = ['model', 'hardware', 'batch', 'prompt', 'context', 'ttft_ms', 'tpot_ms', 'ttft_adj_ms',
              'fits_memory', 'genz_weights_gb', 'genz_kv_gb',
              'decode_bound', 'decode_memory_bound_share', 'decode_top_op', 'decode_top_op_bound',
              'prefill_bound', 'prefill_compute_bound_share',
              'ttft_attention_ms', 'ttft_linear_ms', 'tpot_attention_ms', 'tpot_linear_ms',
              'genz_model', 'genz_commit']
    opfields = ['model', 'hardware', 'batch', 'prompt', 'phase', 'layer', 'class', 'op_type', 'bound',
                'latency_ms', 'compute_ms', 'memory_ms', 'gflop', 'data_gb']
    results, oprows = [], []
    for hw in args.hardware:
        for m in args.models:
            gname = MODELS[m][0]
            check_model(m, gname)
            for b in args.batches:
                for p in args.prompts:
                    pre, fit_p = run_phase(prefill_moddeling, hw, model=gname, batch_size=b,
                                           input_tokens=p, system_eff=1, bits='bf16')
                    dec, fit_d = run_phase(decode_moddeling, hw, model=gname, batch_size=b,
                                           input_tokens=p, output_tokens=0, Bb=1,
                                           system_eff=1, bits='bf16')
                    st_p, st_d = pre['summary_table'], dec['summary_table']
                    ops_p, ops_d = per_op(pre), per_op(dec)
                    top = max(ops_d, key=lambda o: o['latency_ms'])
                    dms = bound_share(ops_d, 'Memory')
                    pcs = bound_share(ops_p, 'Compute')
                    # GenZ's weights: prefill counts embeddings + classifier (tied or not);
                    # its capacity check is weights + KV of that phase (MB are MiB).
                    w = max(st_p['Total Weights (MB)'].values[0], st_d['Total Weights (MB)'].values[0])
                    kv = st_d['KV Cache (MB)'].values[0]
                    # like-for-like TTFT: without GenZ's one-hot input-embedding GEMM and with
                    # the LM head on the last token only (sparsesim runs neither of the two extras)
                    emb = sum(o['latency_ms'] for o in ops_p if o['layer'] == 'embeddings')
                    cls = sum(o['latency_ms'] for o in ops_p if o['layer'] == 'classifier')
                    adj = pre['Latency'] - emb - cls + lm_head_last_token_ms(hw, gname, b)
                    results.append(dict(
                        model=m, hardware=hw, batch=b, prompt=p, context=p,
                        ttft_ms=f"{pre['Latency']:.6g}", tpot_ms=f"{dec['Latency']:.6g}",
                        ttft_adj_ms=f'{adj:.6g}',
                        fits_memory='yes' if (fit_p and fit_d) else 'no (capacity ignored)',
                        genz_weights_gb=f'{w * 2**20 / 1e9:.4g}', genz_kv_gb=f'{kv * 2**20 / 1e9:.4g}',
                        decode_bound='Memory' if dms >= 0.5 else 'Compute',
                        decode_memory_bound_share=f'{dms:.4f}',
                        decode_top_op=top['layer'], decode_top_op_bound=top['bound'],
                        prefill_bound='Compute' if pcs >= 0.5 else 'Memory',
                        prefill_compute_bound_share=f'{pcs:.4f}',
                        ttft_attention_ms=f"{st_p['Attn Latency (msec)'].values[0]:.6g}",
                        ttft_linear_ms=f"{st_p['Linear Latency (msec)'].values[0]:.6g}",
                        tpot_attention_ms=f"{st_d['Attn Latency (msec)'].values[0]:.6g}",
                        tpot_linear_ms=f"{st_d['Linear Latency (msec)'].values[0]:.6g}",
                        genz_model=gname, genz_commit=commit))
                    for phase, ops in (('prefill', ops_p), ('decode', ops_d)):
                        for o in ops:
                            oprows.append(dict(model=m, hardware=hw, batch=b, prompt=p, phase=phase,
                                               layer=o['layer'], **{'class': o['cls']}, op_type=o['op_type'],
                                               bound=o['bound'], latency_ms=f"{o['latency_ms']:.6g}",
                                               compute_ms=f"{o['compute_ms']:.6g}",
                                               memory_ms=f"{o['memory_ms']:.6g}",
                                               gflop=f"{o['num_ops_mflop'] / 1e3:.6g}",
                                               data_gb=f"{o['data_mb'] * 2**20 / 1e9:.6g}"))
                    print(f"{hw:12s} {m:13s} B={b:<3d} P={p:<5d} TTFT {pre['Latency']:10.3f} ms  "
                          f"TPOT {dec['Latency']:8.3f} ms  fits={fit_p and fit_d}", file=sys.stderr)
    with open(args.out, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(results)
    with open(args.ops_out, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=opfields)
        w.writeheader()
        w.writerows(oprows)


ONCHIP_BW = float('inf')

if __name__ == '__main__':
    main()

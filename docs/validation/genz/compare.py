#!/usr/bin/python3
"""Compare sparsesim's TTFT/TPOT with GenZ's on the issue-26 grid.

  compare.py [--genz genz_results.csv] [--genz-ops genz_operators.csv]
             [--sparsesim DIR] [--out comparison.md] [CONFIG ...]

DIR holds one folder per config written by run_sparsesim.sh (runs.csv + one
JSON report per point and phase). CONFIG defaults to every folder of DIR that
has a runs.csv; GenZ's rows are matched on hardware == CONFIG. Ratios are
sparsesim / GenZ; a ratio outside [LO, HI] = [0.85, 1.25] is flagged, and for
each flagged point the per-operator-class times of both are tabulated.

sparsesim's numbers: TTFT = llm.ttft_seconds of the prefill run; TPOT =
llm.tpot_seconds of the decode run (the mean of its --gen steps, at contexts
P+1 .. P+gen; GenZ's decode step is at context P). Per class: the prefill
phase's classes[].seconds, and the decode phase's divided by its steps.
Standard library only.
"""
import argparse
import csv
import json
import os
from collections import OrderedDict, defaultdict

LO, HI = 0.85, 1.25

# comparison classes: sparsesim class -> row, GenZ class (genz_operators.csv 'class') -> row
SS_ROW = {'qkv': 'qkv', 'attention': 'attention', 'out_proj': 'out_proj', 'ffn': 'ffn / experts',
          'experts': 'ffn / experts', 'router': 'router', 'lm_head': 'lm_head', 'vector': 'vector (norms, RoPE, softmax, act.)'}
GZ_ROW = {'qkv': 'qkv', 'attention': 'attention', 'out_proj': 'out_proj', 'ffn': 'ffn / experts',
          'router': 'router', 'lm_head': 'lm_head', 'embedding': 'input embedding'}
ROWS = ['input embedding', 'qkv', 'attention', 'out_proj', 'router', 'ffn / experts', 'lm_head',
        'vector (norms, RoPE, softmax, act.)']


def fnum(x):
    return float(x) if x not in (None, '') else None


def fmt_ms(x):
    if x is None:
        return '—'
    if x >= 1000:
        return f'{x:,.0f}'
    if x >= 10:
        return f'{x:.1f}'
    return f'{x:.3f}'


def ratio(a, b):
    return a / b if (a is not None and b) else None


def fmt_ratio(r):
    if r is None:
        return '—'
    s = f'{r:.3f}'
    return f'**{s}** ⚑' if (r < LO or r > HI) else s


def flagged(r):
    return r is not None and (r < LO or r > HI)


def load_sparsesim(d):
    runs = {}
    with open(os.path.join(d, 'runs.csv')) as f:
        for r in csv.DictReader(f):
            key = (r['model'], int(r['batch']), int(r['prompt']))
            path = os.path.join(d, r['file'])
            if not os.path.exists(path):
                continue
            with open(path) as jf:
                j = json.load(jf)
            ph = j['phases'][0]
            steps = max(ph.get('steps') or 1, 1)
            per = defaultdict(float)
            for c in ph['classes']:
                per[SS_ROW.get(c['class'], c['class'])] += c['seconds'] * 1e3 / steps
            bounds = {}
            for c in ph['classes']:
                bounds[SS_ROW.get(c['class'], c['class'])] = f"{c['roofline_bound']} {100 * c['roofline_efficiency']:.0f}%"
            e = runs.setdefault(key, {})
            llm = j['llm']
            if r['phase'] == 'prefill':
                e['ttft'] = llm['ttft_seconds'] * 1e3
            else:
                e['tpot'] = llm['tpot_seconds'] * 1e3
                e['steps'] = ph.get('steps')
            e[r['phase'] + '_classes'] = per
            e[r['phase'] + '_bounds'] = bounds
            e[r['phase'] + '_cap'] = r['capacity_ignored']
            e[r['phase'] + '_wall'] = float(r['wall_seconds'])
            e['rev'] = r.get('sparsesim_rev', '')
    return runs


def load_genz_ops(path):
    ops = defaultdict(lambda: defaultdict(float))
    bounds = defaultdict(dict)
    if not path or not os.path.exists(path):
        return ops, bounds
    with open(path) as f:
        for r in csv.DictReader(f):
            k = (r['hardware'], r['model'], int(r['batch']), int(r['prompt']), r['phase'])
            row = GZ_ROW.get(r['class'], r['class'])
            ops[k][row] += float(r['latency_ms'])
            prev = bounds[k].get(row)
            bounds[k][row] = r['bound'] if prev in (None, r['bound']) else 'mixed'
    return ops, bounds


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--genz', default=os.path.join(here, 'genz_results.csv'))
    ap.add_argument('--genz-ops', default=os.path.join(here, 'genz_operators.csv'))
    ap.add_argument('--sparsesim', default=os.path.join(here, 'sparsesim'))
    ap.add_argument('--out', default=os.path.join(here, 'comparison.md'))
    ap.add_argument('configs', nargs='*')
    args = ap.parse_args()

    configs = args.configs or sorted(c for c in os.listdir(args.sparsesim)
                                     if os.path.exists(os.path.join(args.sparsesim, c, 'runs.csv')))
    genz = OrderedDict()
    commit = ''
    with open(args.genz) as f:
        for r in csv.DictReader(f):
            genz[(r['hardware'], r['model'], int(r['batch']), int(r['prompt']))] = r
            commit = r.get('genz_commit', commit)
    gops, gbounds = load_genz_ops(args.genz_ops)

    out = ['# sparsesim vs GenZ: TTFT and TPOT', '',
           f'Generated by `compare.py` from `{os.path.relpath(args.genz, here)}` (GenZ commit `{commit}`, '
           'efficiencies 1, one chip) and the sparsesim JSON reports under '
           f'`{os.path.relpath(args.sparsesim, here)}/` written by `run_sparsesim.sh`. '
           f'Ratio = sparsesim / GenZ; **bold ⚑** = outside [{LO}, {HI}]. '
           'TTFT = prefill of the prompt (P tokens × batch B). TPOT = one decode step at context P '
           '(GenZ) vs the mean of sparsesim\'s decode steps at P+1, P+2. '
           '"GenZ adj. TTFT" = GenZ\'s TTFT less its one-hot input-embedding GEMM and with the LM head '
           'over the last token of each sequence only (GenZ\'s GEMM operator, `ttft_adj_ms`), the work '
           'sparsesim runs. '
           'mem: GenZ / sparsesim fit in the config\'s memory (✗ = run with the capacity check off). '
           'See README.md for what each tool models.', '']
    for cfg in configs:
        ss = load_sparsesim(os.path.join(args.sparsesim, cfg))
        rows = [(k, g) for k, g in genz.items() if k[0] == cfg]
        if not rows:
            out += [f'## {cfg}', '', f'No GenZ rows for hardware `{cfg}`.', '']
            continue
        rev = next((v.get('rev') for v in ss.values() if v.get('rev')), '')
        walls = [v.get(p + '_wall', 0) for v in ss.values() for p in ('prefill', 'decode')]
        out += [f'## {cfg}', '',
                f'sparsesim revision `{rev}`; {sum(1 for w in walls if w)} runs, '
                f'{sum(walls):.1f} s of wall time in all, slowest {max(walls or [0]):.1f} s.', '',
                '| model | B | P | GenZ TTFT ms | sparsesim TTFT ms | TTFT ratio | ratio to GenZ adj. TTFT | GenZ TPOT ms | sparsesim TPOT ms | TPOT ratio | GenZ decode bound | mem GenZ/sparsesim |',
                '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|']
        flags = []
        stats = {'ttft': [], 'ttft vs adj.': [], 'tpot': []}
        for (hw, m, b, p), g in rows:
            s = ss.get((m, b, p), {})
            gt, gp = fnum(g['ttft_ms']), fnum(g['tpot_ms'])
            st, sp = s.get('ttft'), s.get('tpot')
            rt, rp = ratio(st, gt), ratio(sp, gp)
            ra = ratio(st, fnum(g.get('ttft_adj_ms')))
            if rt is not None:
                stats['ttft'].append(rt)
            if ra is not None:
                stats['ttft vs adj.'].append(ra)
            if rp is not None:
                stats['tpot'].append(rp)
            gfit = '✓' if g['fits_memory'] == 'yes' else '✗'
            sfit = '—' if not s else ('✗' if 'yes' in (s.get('prefill_cap'), s.get('decode_cap')) else '✓')
            out.append(f"| {m} | {b} | {p} | {fmt_ms(gt)} | {fmt_ms(st)} | {fmt_ratio(rt)} | {fmt_ratio(ra)} | {fmt_ms(gp)} | "
                       f"{fmt_ms(sp)} | {fmt_ratio(rp)} | {g['decode_bound']} ({float(g['decode_memory_bound_share']) * 100:.0f}% mem) | {gfit}/{sfit} |")
            for phase, r, r2 in (('prefill', rt, ra), ('decode', rp, None)):
                if flagged(r) or flagged(r2):
                    flags.append((m, b, p, phase, r, r2, s))
        out.append('')
        for k, v in stats.items():
            if v:
                inside = sum(1 for r in v if not flagged(r))
                out.append(f'- {k.upper()}: {len(v)} points, ratio {min(v):.3f}–{max(v):.3f}, '
                           f'{inside} inside [{LO}, {HI}].')
        out.append('')
        if flags:
            out += [f'### {cfg}: per operator class at the flagged points', '',
                    'Ratio sparsesim / GenZ of each operator class\'s time, at every point whose TTFT, '
                    'adjusted TTFT or TPOT ratio is flagged. `emb` = GenZ\'s one-hot input-embedding GEMM (ms; '
                    'sparsesim has none), `vec` = sparsesim\'s vector unit (ms; GenZ models no norm, RoPE, '
                    'softmax or activation). lm_head compares GenZ\'s P-token LM head in prefill with '
                    'sparsesim\'s last-token one.', '']
            for phase in ('prefill', 'decode'):
                sel = [f for f in flags if f[3] == phase]
                if not sel:
                    continue
                cols = ['qkv', 'attention', 'out_proj', 'router', 'ffn / experts', 'lm_head']
                out += [f'**{"TTFT (prefill)" if phase == "prefill" else "TPOT (one decode step)"}**', '',
                        '| model | B | P | total | ' + ' | '.join(cols) + ' | emb ms | vec ms |',
                        '|---|---:|---:|---:|' + '---:|' * (len(cols) + 2)]
                for m, b, p, _, r, r2, s in sel:
                    gc = gops.get((cfg, m, b, p, phase), {})
                    sc = s.get(phase + '_classes', {})
                    cells = [fmt_ratio(ratio(sc.get(c), gc.get(c))) if (c in gc or c in sc) else '' for c in cols]
                    out.append(f'| {m} | {b} | {p} | {fmt_ratio(r)} | ' + ' | '.join(cells) +
                               f' | {fmt_ms(gc.get("input embedding"))} | {fmt_ms(sc.get(ROWS[-1]))} |')
                out.append('')
            out += ['<details><summary>Per-class milliseconds and bounds at each flagged point</summary>', '',
                    'Milliseconds per TTFT (prefill) or per decode step; GenZ\'s bound is its per-operator '
                    'roofline verdict, sparsesim\'s is `roofline_bound` and `roofline_efficiency` '
                    '(its time vs its own roofline for the class).', '']
            for m, b, p, phase, r, r2, s in flags:
                gk = (cfg, m, b, p, phase)
                gc, gb = gops.get(gk, {}), gbounds.get(gk, {})
                sc, sb = s.get(phase + '_classes', {}), s.get(phase + '_bounds', {})
                out += [f'**{m}, B={b}, P={p}, {"TTFT" if phase == "prefill" else "TPOT"}** (ratio {r:.3f})', '',
                        '| class | GenZ ms | GenZ bound | sparsesim ms | sparsesim bound, eff. | ratio |',
                        '|---|---:|---|---:|---|---:|']
                for row in ROWS:
                    a, bb = gc.get(row), sc.get(row)
                    if a is None and bb is None:
                        continue
                    out.append(f'| {row} | {fmt_ms(a)} | {gb.get(row, "—")} | {fmt_ms(bb)} | {sb.get(row, "—")} | '
                               f'{fmt_ratio(ratio(bb, a)) if a else "—"} |')
                out.append(f'| **total** | {fmt_ms(sum(gc.values()) if gc else None)} | | '
                           f'{fmt_ms(sum(sc.values()) if sc else None)} | | {r:.3f} |')
                out.append('')
            out += ['</details>', '']
    with open(args.out, 'w') as f:
        f.write('\n'.join(out) + '\n')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()

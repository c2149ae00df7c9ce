#!/usr/bin/env bash
# Run sparsesim on the GenZ comparison grid (issue 26) and write one JSON
# report per point and phase, plus an index (runs.csv) that compare.py reads.
#
#   docs/validation/genz/run_sparsesim.sh [options] CONFIG [CONFIG...]
#
#   CONFIG       an embedded config name (llm-128x128, tpu-v5e once it exists)
#                or a YAML path; outputs go to OUTDIR/<name without .yaml>/
#   -o OUTDIR    default docs/validation/genz/sparsesim
#   -m MODELS    default "llama-3.2-1b llama-3.1-8b mistral-7b mixtral-8x7b"
#   -b BATCHES   default "1 8 32"
#   -p PROMPTS   default "512 2048 8192"
#   -g GEN       decode steps for TPOT (default 2: steps at context P+1, P+2)
#   -x           skip points whose JSON is already there
#
# Per point: TTFT from `run --phase prefill --prompt P --batch B -f json`,
# TPOT from `run --phase decode --prompt P --gen GEN --batch B -f json`.
# A point sparsesim refuses for capacity (exit 2, "does not fit") is run again
# with --set dram.capacity_gb=0 and marked capacity_ignored=yes in runs.csv.
# The binary is $SPARSESIM if set, else one `go build ./cmd/sparsesim` of this
# checkout (the same code `go run ./cmd/sparsesim` runs, built once).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
outdir=$here/sparsesim
models="llama-3.2-1b llama-3.1-8b mistral-7b mixtral-8x7b"
batches="1 8 32"
prompts="512 2048 8192"
gen=2
skip=0
while getopts "o:m:b:p:g:x" opt; do
  case $opt in
    o) outdir=$OPTARG ;;
    m) models=$OPTARG ;;
    b) batches=$OPTARG ;;
    p) prompts=$OPTARG ;;
    g) gen=$OPTARG ;;
    x) skip=1 ;;
    *) sed -n '2,22p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-o OUTDIR] [-m MODELS] [-b BATCHES] [-p PROMPTS] [-g GEN] [-x] CONFIG..." >&2; exit 2; }

bin=${SPARSESIM:-}
if [ -z "$bin" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$root" && go build -o "$tmp/sparsesim" ./cmd/sparsesim)
  bin=$tmp/sparsesim
fi
rev=$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)

now() { date +%s.%N; }

for cfg in "$@"; do
  name=$(basename "$cfg" .yaml)
  d=$outdir/$name
  mkdir -p "$d"
  index=$d/runs.csv
  [ -f "$index" ] && [ $skip = 1 ] || echo "config,model,batch,prompt,phase,gen,capacity_ignored,wall_seconds,file,sparsesim_rev" > "$index"
  for m in $models; do
    for b in $batches; do
      for p in $prompts; do
        for phase in prefill decode; do
          f=${m}_b${b}_p${p}_${phase}.json
          if [ $skip = 1 ] && [ -s "$d/$f" ]; then continue; fi
          args=(run -c "$cfg" -w "$m" --phase "$phase" --prompt "$p" --batch "$b" -f json -o "$d/$f")
          [ "$phase" = decode ] && args+=(--gen "$gen")
          ign=no
          t0=$(now)
          if ! "$bin" "${args[@]}" 2> "$d/err.txt"; then
            if grep -q "does not fit" "$d/err.txt"; then
              ign=yes
              t0=$(now)
              "$bin" "${args[@]}" --set dram.capacity_gb=0
            else
              cat "$d/err.txt" >&2; exit 1
            fi
          fi
          t1=$(now)
          wall=$(printf "%.3f" "$(echo "$t1 - $t0" | bc)")
          g=$([ "$phase" = decode ] && echo "$gen" || echo 0)
          echo "$name,$m,$b,$p,$phase,$g,$ign,$wall,$f,$rev" >> "$index"
          printf '%-12s %-13s B=%-3s P=%-5s %-7s capacity_ignored=%-3s %6.2fs\n' "$name" "$m" "$b" "$p" "$phase" "$ign" "$wall" >&2
        done
      done
    done
  done
  rm -f "$d/err.txt"
done

#!/bin/bash
# One command submits a whole sweep to Slurm: the 10,000-point ResNet-18
# design space (PE rows × columns × dataflow × N:M pattern × weight SRAM)
# as an array job of $SHARDS shards plus a merge job (afterok). Follow it
# with `sparsesim sweep status $OUT`; results land in $OUT/merged.
# `make test-cluster` runs this file scaled down through the variables.
set -euo pipefail
SPARSESIM=${SPARSESIM:-sparsesim}
SHARDS=${SHARDS:-4}
OUT=${OUT:-sweep-10k}
WORKLOAD=${WORKLOAD:-resnet18}
SLURM_OPTS=${SLURM_OPTS:---time=04:00:00 --mem=2G}
read -r -a GRID <<<"${GRID:---grid pe_array.rows=8:80:+8 --grid pe_array.cols=8:80:+8 --grid dataflow=os,ws --grid sparsity.nm=dense,2:4,1:4,2:8,1:8 --grid buffers.filter_kb=8:4096:x2}"
exec "$SPARSESIM" sweep --config systolic-32x32 --workload "$WORKLOAD" "${GRID[@]}" \
  --slurm "$SHARDS" --slurm-opts "$SLURM_OPTS" --out "$OUT"

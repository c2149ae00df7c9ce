#!/usr/bin/env bash
# make test-cluster: starts a real single-node Slurm cluster (munged,
# slurmctld, slurmd as root; state, spool, logs and sockets in a temp dir),
# then
#   1. runs slurm-sweep.sh (`sparsesim sweep --slurm 4`) scaled down and checks
#      the merged results equal the unsharded sweep's byte for byte;
#   2. does it again, requeues a running shard with `scontrol requeue`, and
#      checks the shard resumed and the merged result is still identical;
#   3. runs the hand-written sweep.sbatch + merge.sbatch (afterok), scaled
#      down, and checks them the same way;
#   4. submits an LLM sweep (gpt2-small generate over batch x prompt) with
#      --slurm 2 and checks its merge against the unsharded sweep.
# Every process it starts is ended by PID on exit, failure included.
# Needs root and Debian's slurm-wlm and munge packages. Usage:
#   docs/cluster/test-cluster.sh path/to/sparsesim
set -euo pipefail
BIN=$(realpath "${1:?usage: test-cluster.sh path/to/sparsesim}")
HERE=$(cd "$(dirname "$0")" && pwd)
fail() { echo "test-cluster: FAIL: $*" >&2; exit 1; }
say() { echo "test-cluster: $*"; }
[ "$(id -u)" = 0 ] || fail "needs root (munged, slurmctld and slurmd run as root)"
for c in munged slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
  command -v "$c" >/dev/null || fail "$c not found: apt-get install slurm-wlm munge"
done

T=$(mktemp -d /tmp/sparsesim-cluster.XXXXXX)
export SLURM_CONF=$T/slurm.conf
DAEMONS=() # PIDs of munged, slurmctld, slurmd, in start order
started=$(date +%s)

# pids_of_cluster lists the processes this cluster started for jobs
# (slurmstepd and the job's own processes): they carry our SLURM_CONF.
pids_of_cluster() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    if { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "SLURM_CONF=$SLURM_CONF"; then
      case " ${DAEMONS[*]} " in *" $p "*) ;; *) echo "$p" ;; esac
    fi
  done
}

cleanup() {
  local rc=$? p i
  set +e
  if [ ${#DAEMONS[@]} -gt 1 ]; then
    ids=$(squeue -h -o %A 2>/dev/null | sort -u)
    [ -n "$ids" ] && scancel $ids 2>/dev/null
    for i in $(seq 1 20); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for p in $(pids_of_cluster); do kill -TERM "$p" 2>/dev/null; done
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do kill -TERM "${DAEMONS[i]}" 2>/dev/null; done
  for i in $(seq 1 20); do
    alive=0
    for p in "${DAEMONS[@]}" $(pids_of_cluster); do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.25
  done
  for p in "${DAEMONS[@]}" $(pids_of_cluster); do kill -KILL "$p" 2>/dev/null; done
  if [ $rc != 0 ]; then
    echo "test-cluster: logs kept in $T/log:" >&2
    tail -n 20 "$T"/log/*.log >&2 2>/dev/null
  else
    rm -rf "$T"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the cluster -----------------------------------------------------------
mkdir -p "$T"/{munge,state,spool,log,run}
chmod 711 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$T/munge/munge.key"
munged -F -f --socket="$T/munge/munge.sock" --key-file="$T/munge/munge.key" \
  --pid-file="$T/run/munged.pid" --log-file="$T/log/munged.log" --seed-file="$T/munge/seed" \
  >"$T/log/munged.out" 2>&1 &
DAEMONS+=($!)

free_port() { # a TCP port nobody listens on, near $1
  local p=$1
  while (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; do p=$((p + 2)); done
  echo $p
}
ctl_port=$(free_port $((20000 + $$ % 20000)))
d_port=$(free_port $((ctl_port + 1)))
host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) / 2))
cat >"$SLURM_CONF" <<CONF
ClusterName=sparsesim-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
for i in $(seq 1 40); do [ -S "$T/munge/munge.sock" ] && break; sleep 0.25; done
slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
DAEMONS+=($!)
slurmd -D -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
DAEMONS+=($!)
for i in $(seq 1 120); do
  [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break
  [ "$i" = 120 ] && fail "the node did not come up idle in 60 s"
  sleep 0.5
done
say "single-node Slurm up in $(($(date +%s) - started)) s ($cpus CPUs, ${mem} MB, ports $ctl_port/$d_port)"

# --- helpers ---------------------------------------------------------------
state() { squeue -h --states=all -j "$1" -o %T 2>/dev/null | head -1; }
wait_done() { # job id, timeout s: waits until the job COMPLETED
  local s i
  for ((i = 0; i < $2 * 2; i++)); do
    s=$(state "$1")
    case $s in
      COMPLETED) return 0 ;;
      FAILED | CANCELLED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL | BOOT_FAIL | DEADLINE) fail "job $1 ended $s" ;;
    esac
    sleep 0.5
  done
  fail "job $1 not done in $2 s (state $s)"
}
same() { # a b: byte-identical files
  cmp -s "$1" "$2" || { diff "$1" "$2" | head -5 >&2; fail "$2 differs from $1"; }
}
same_results() { # reference dir, merged dir
  for f in results.jsonl results.csv pareto.csv; do same "$1/$f" "$2/$f"; done
}
job_ids() { # output dir → "array merge" from slurm/jobs.json
  sed -n 's/.*"\(array_job\|merge_job\)": "\([0-9]*\)".*/\2/p' "$1/slurm/jobs.json" | tr '\n' ' '
}
rows() { if [ -s "$1" ]; then grep -c '' "$1"; else echo 0; fi; }

# A scaled-down ResNet-18 grid: 12 points (2 to 4 a shard), 1-5 s each on
# one core, so a shard is still running when we requeue it.
GRID="--grid pe_array.rows=8,16,32 --grid pe_array.cols=8,16 --grid dataflow=os,ws"
read -r -a GRIDA <<<"$GRID"
t0=$(date +%s)
"$BIN" sweep --config systolic-32x32 --workload resnet18 "${GRIDA[@]}" -j "$cpus" -q --out "$T/ref" >/dev/null
say "unsharded reference sweep: 12 points in $(($(date +%s) - t0)) s"

# --- 1. sweep --slurm 4 (slurm-sweep.sh) --------------------------------------
t0=$(date +%s)
SPARSESIM=$BIN SHARDS=4 OUT=$T/s4 GRID=$GRID SLURM_OPTS="--time=00:20:00 --mem=500M" \
  "$HERE/slurm-sweep.sh" | tee "$T/submit.out"
grep -q "submitted array job" "$T/submit.out" || fail "no job IDs printed"
read -r A M <<<"$(job_ids "$T/s4")"
dep=$(scontrol show job "$M" | grep -o 'Dependency=[^ ]*')
case $dep in "Dependency=afterok:${A}_*"*) ;; *) fail "merge job $M: $dep, want afterok on array job $A" ;; esac
wait_done "$M" 300
same_results "$T/ref" "$T/s4/merged"
"$BIN" sweep status "$T/s4" | tee "$T/status.out"
grep -q "total .* 12 .* 12 .* 0 .* 0" "$T/status.out" || fail "sweep status does not show 12 of 12 points done"
grep -q "merged: .* (12 rows)" "$T/status.out" || fail "sweep status does not show the merge"
say "1. --slurm 4: merged == unsharded, byte for byte ($(($(date +%s) - t0)) s)"

# --- 2. requeue a running shard ----------------------------------------------
t0=$(date +%s)
SPARSESIM=$BIN SHARDS=4 OUT=$T/rq GRID=$GRID SLURM_OPTS="--time=00:20:00 --mem=500M" \
  "$HERE/slurm-sweep.sh" >/dev/null
read -r A M <<<"$(job_ids "$T/rq")"
requeued=""
for ((i = 0; i < 400; i++)); do
  [ -n "$requeued" ] && break
  # shard, done, remaining of each started shard, from sweep status's table
  while read -r s done left; do
    if [ "$done" -ge 1 ] && [ "$left" -ge 1 ] && [ "$(state "${A}_$s")" = RUNNING ]; then
      scontrol requeue "${A}_$s"
      # Slurm holds a requeued job back for about two minutes (its BeginTime);
      # release it now so the test does not sit idle.
      sleep 1
      scontrol update jobid="${A}_$s" StartTime=now
      requeued=$s
      say "requeued task ${A}_$s with $done of $((done + left)) rows written"
      break
    fi
  done < <("$BIN" sweep status "$T/rq" | awk -F'│' '$3 ~ /shard-[0-9]+ *$/ {split($2, a, "/"); print a[1] + 0, $5 + 0, $7 + 0}')
  sleep 0.25
done
[ -n "$requeued" ] || fail "no shard was caught running between its first and last row"
wait_done "$M" 300
scontrol show job "${A}_$requeued" | grep -q "Restarts=1" || fail "task ${A}_$requeued was not restarted"
grep -q "resumed: [1-9]" "$T/rq/slurm/logs/shard-$requeued.out" || fail "requeued shard did not resume (log: $(cat "$T/rq/slurm/logs/shard-$requeued.out"))"
same_results "$T/ref" "$T/rq/merged"
say "2. requeued shard $requeued resumed; merged == unsharded, byte for byte ($(($(date +%s) - t0)) s)"

# --- 3. the hand-written job array (sweep.sbatch + merge.sbatch) -------------
t0=$(date +%s)
export SPARSESIM=$BIN SHARDS=4 OUT=$T/hand GRID WORKLOAD=resnet18
a=$(sbatch --parsable --array=0-3 --cpus-per-task=1 --mem=500M --chdir="$T" --output="$T/log/hand-%a.out" "$HERE/sweep.sbatch")
m=$(sbatch --parsable --dependency=afterok:"$a" --mem=500M --chdir="$T" --output="$T/log/hand-merge.out" "$HERE/merge.sbatch")
wait_done "$m" 300
same_results "$T/ref" "$T/hand/merged"
say "3. sweep.sbatch + merge.sbatch: merged == unsharded, byte for byte ($(($(date +%s) - t0)) s)"

# --- 4. an LLM sweep over batch and prompt, --slurm 2 -------------------------
# The job scripts must carry --phase, --prompt, --gen and the run axes
# (batch, prompt, workload), or the shards would run other points.
t0=$(date +%s)
LLM=(--config llm-128x128 --phase generate --gen 3 --grid workload=gpt2-small --grid batch=1,2 --grid prompt=16,32)
"$BIN" sweep "${LLM[@]}" -j "$cpus" -q --out "$T/llm-ref" >/dev/null
(cd "$T" && "$BIN" sweep "${LLM[@]}" --slurm 2 --slurm-opts "--time=00:20:00 --mem=1G" --out "$T/llm") >/dev/null
read -r A M <<<"$(job_ids "$T/llm")"
wait_done "$M" 300
same_results "$T/llm-ref" "$T/llm/merged"
say "4. LLM sweep (batch x prompt) --slurm 2: merged == unsharded, byte for byte ($(($(date +%s) - t0)) s)"
say "PASS ($(($(date +%s) - started)) s)"

# What every device call's script (grid.sh, short.sh, knobs-hN.sh) shares, sourced by it from the
# same folder on the device (make-call.sh copies both; by hand: cp bench/gpu-flat/device-common.sh
# bench/gpu-flat/knobs-hN.sh out/hN/, the latter as run.sh). Expects B (the call's folder, holding
# flat.mjs and COMMIT). P prints the benchmark's JSON rows, Q the torch baseline's, I bench/gpu-int8's;
# F / G are the 1M / 21M timing flags; el NAME RC prints a step's end with the seconds since the
# start; stats_first, tl, logs_tail and pack_results below.
N21=21015324
T=.device/torch_flat_baseline.py
S0=$SECONDS
echo "commit $(cat "$B/COMMIT")"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], 'k', r.get('k'), r['ms'])"
I="import sys,json
for l in sys.stdin:
  if '\"recall' not in l: continue
  r=json.loads(l); print('int8', r.get('variant'), r.get('nq'), 'gpu', r.get('gpu_ms'), 'wall', r.get('wall_ms'), 'recall', r.get('recall_at_10'))"
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2"; }
# stats_first: where L names the built layer (bench/shader-stats), the driver's pipeline statistics
# (B's stats.sh into W) before the timed steps.
stats_first() { if [ -n "$L" ]; then B=$B L=$L W=$W bash "$B/stats.sh" 2>&1 | tail -40; el stats 0; fi; }
# tl N: N seconds, or what is left of the script's BUDGET (at least 1: "timeout 0" would mean no limit).
tl() { local l=$((BUDGET-(SECONDS-S0))); [ $l -lt 1 ] && l=1; [ $l -lt $1 ] && echo $l || echo $1; }
# logs_tail: the last lines the steps wrote to W/logs.txt, without Dawn's usual warnings.
logs_tail() { grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" "$W/logs.txt" | cut -c1-300 | tail -6; }
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 4"
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"
# pack_results: every file of W in one W/results.tgz (removed as packed). A call brings back at most
# 8 files from $OUT: h68's 13 lost its logs, summaries and torch JSON (their lines were in the reply).
pack_results() { (cd "$W" && tar czf results.tgz --remove-files $(ls | grep -v '^results.tgz$')) && ls -la "$W/results.tgz"; }

# What every device call's script (bench/gpu-flat/knobs-hN.sh) shares, sourced by it from the same
# folder on the device (copy both: cp bench/gpu-flat/device-common.sh bench/gpu-flat/knobs-hN.sh out/hN/,
# the latter as run.sh). Expects B (the call's folder, holding flat.mjs and COMMIT).
# P prints the benchmark's JSON rows, Q the torch baseline's, I bench/gpu-int8's; F / G are the 1M / 21M
# timing flags; el NAME RC prints a step's end with the seconds since the start.
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
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 4"
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"

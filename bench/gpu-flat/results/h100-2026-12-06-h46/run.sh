# Session 30, H100 call h46: where f16's fixed cost a search goes (defaults, dynamic chunks on): 8
# and 1 queries over N = 0.25M-4M (the time's intercept at N = 0 against torch's), and k = 1 / 10 /
# 100 at 1M x 8 queries. f16 at half of f32's memory (--experimental 0), torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h46/flat.mjs; cp bench/gpu-flat/knobs-h46.sh out/h46/run.sh; git rev-parse --short HEAD > out/h46/COMMIT
# On the device (carry .device and out/h46): source .device/setup.sh && bash out/h46/run.sh (~2 min).
B=out/h46;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
for N in 250000 500000 1000000 2000000 4000000; do
  timeout 30 python3 $T --n $N --d 768 --nq 1,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
  timeout 40 node $B/flat.mjs --n $N --nq 1,8 --precisions f16 --experimental 0 --variants 'd:;d2:' --oracle-queries 1 --warm-ms 200 --min-ms 250 --max-reps 400 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
done
for K in 1 100; do
  timeout 30 python3 $T --n 1000000 --d 768 --nq 8 --k $K --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
  timeout 40 node $B/flat.mjs --n 1000000 --nq 8 --k $K --precisions f16 --experimental 0 --variants 'd:;d2:' --oracle-queries 1 --warm-ms 200 --min-ms 250 --max-reps 400 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[k $K, $((SECONDS-S0)) s]"
done

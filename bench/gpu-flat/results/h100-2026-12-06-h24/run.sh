# Session 28, H100 call h24: the few-query grid at the defaults of 9c3f603 (the f16 block of 8 with
# split query halves, hqp 1, since h23), f16 at half of f32's memory (--experimental 0) and f32,
# 1-8 queries over 1M and 21M rows, against torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h24/flat.mjs; cp bench/gpu-flat/grid-h24.sh out/h24/run.sh; git rev-parse --short HEAD > out/h24/COMMIT
# On the device (carry .device and out/h24): source .device/setup.sh && bash out/h24/run.sh (~2 min).
B=out/h24; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,2,3,4,5,6,8 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 1,2,3,4,5,6,8 --precisions f16,f32 --experimental 0 --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 1,2,4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 1,2,4,5,8 --precisions f16,f32 --experimental 0 --gpu-memory 78.5 --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 27, H100 call h18: the few-query grid at the defaults of h15-h17 (flat_gemv_multi from 2
# queries, its block of 4 with h4uw 2 / h4target 396, mfma 1, mci 6, hmuw 1), f16 (half of f32's
# memory: --experimental 0) and f32, against torch in the same call; and the f32 block of 16 (9-16
# queries), which mfma also changes, against mfma 0.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h18/flat.mjs; cp bench/gpu-flat/multi-grid-h18.sh out/h18/run.sh; git rev-parse --short HEAD > out/h18/COMMIT
# On the device (carry .device and out/h18): source .device/setup.sh && bash out/h18/run.sh (~2 min).
B=out/h18; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,2,3,4,5,6,8,12,16 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 1,2,3,4,5,6,8 --precisions f16,f32 --experimental 0 --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 12,16 --precisions f32 --experimental 0 --variants 'd:;f0:mfma=0;d2:' --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 1,2,4,5,8,16 --k 10 --reps 5 --chunk 4194304 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 1,2,4,5,8 --precisions f16,f32 --experimental 0 --gpu-memory 78.5 --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n $N21 --nq 16 --precisions f32 --experimental 0 --gpu-memory 78.5 --variants 'd:;f0:mfma=0;d2:' --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

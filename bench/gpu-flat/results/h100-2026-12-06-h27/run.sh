# Session 28, H100 call h27: the few-query grid at the defaults of 5240472 (mpart 1: a batch short of
# its block multiplies only its own queries; hqp 1), f16 at half of f32's memory (--experimental 0)
# at 1-8 queries and f32 at 1-16, over 1M and 21M rows, against torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h27/flat.mjs; cp bench/gpu-flat/grid-h27.sh out/h27/run.sh; git rev-parse --short HEAD > out/h27/COMMIT
# On the device (carry .device and out/h27): source .device/setup.sh && bash out/h27/run.sh (~2.5 min).
B=out/h27; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,2,3,4,5,6,7,8,9,12,16 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 1,2,3,4,5,6,7,8 --precisions f16 --experimental 0 --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 1,2,3,4,5,6,7,8,9,12,16 --precisions f32 --experimental 0 --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 1,2,4,5,6,7,8,9,16 --k 10 --reps 5 --chunk 4194304 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 1,2,4,5,6,7,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 1,2,4,5,8,9,16 --precisions f32 --experimental 0 --gpu-memory 78.5 --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

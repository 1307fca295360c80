# Session 28, H100 call h26: flat_gemv_multi multiplying only a batch's own queries (mpart 1: the
# groups of 4 past the batch skipped, the last group's padding not multiplied) against the padded
# block, f16 at half of f32's memory (--experimental 0) and f32, torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h26/flat.mjs; cp bench/gpu-flat/part-h26.sh out/h26/run.sh; git rev-parse --short HEAD > out/h26/COMMIT
# On the device (carry .device and out/h26): source .device/setup.sh && bash out/h26/run.sh (~2 min).
B=out/h26; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;pt:mpart=1;d2:;pt2:mpart=1'
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,3,5,6,7,9,12 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 3,5,6,7 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 3,5,7,9,12 --precisions f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 3,5,6,7,9 --k 10 --reps 5 --chunk 4194304 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 3,5,6,7 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 5,9 --precisions f32 --experimental 0 --gpu-memory 78.5 --variants 'd:;pt:mpart=1' --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

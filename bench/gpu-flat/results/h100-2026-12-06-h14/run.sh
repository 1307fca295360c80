# Session 26, H100 call h14: flat_gemv_multi below 5 queries (kernelTuning.gemvMultiFrom 2) against
# flat_gemv (the default at 1-4), f32 and f16 (f16 at exactly half of f32's memory: at 2-8 queries
# its only kernels, 0.61x torch fp16 at 4 queries over 1M in h13). torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h14/flat.mjs; cp bench/gpu-flat/gemv-multi-from-h14.sh out/h14/run.sh; git rev-parse --short HEAD > out/h14/COMMIT
# On the device (carry .device and out/h14): source .device/setup.sh && bash out/h14/run.sh (~1 min).
B=out/h14; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;mf:gemvMultiFrom=2;d2:;mf2:gemvMultiFrom=2'
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,3,4 --k 10 --reps 30 --dtypes float32,float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 2,3,4 --precisions f16,f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 2,4 --k 10 --reps 5 --chunk 4194304 --dtypes float32,float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 2,4 --precisions f16,f32 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

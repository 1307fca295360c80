# Session 29, H100 call h39: the merge behind flat_gemv_multi at 1M rows (264 lists of k = 10 a
# query: 2640 pairs, one merge_one workgroup a query by default) as two levels of 16 / 32 / 64 lists
# a workgroup (mergeOneFan), against the default, for f16 at half of f32's memory (--experimental 0)
# and f32; and 21M at 8 queries. Torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h39/flat.mjs; cp bench/gpu-flat/knobs-h39.sh out/h39/run.sh; git rev-parse --short HEAD > out/h39/COMMIT
# On the device (carry .device and out/h39): source .device/setup.sh && bash out/h39/run.sh (~1.5 min).
B=out/h39; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;f16:mergeOneFan=16;f32:mergeOneFan=32;f64:mergeOneFan=64;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 4,5,7,8 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 4,5,7,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 4,8 --precisions f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 31, H100 call h53 (run at 123c9a0, the bundle of h52): the grid at the defaults after h51-h52 (mfree 3, m16free 1, hfirst 1, mfirst 0; dynamic chunks with
# h4dyn 1, bundle of the commit in COMMIT): f16 at exactly half of f32's memory at 1-16 queries with the portable
# kernels (--experimental 0), and with allowExperimental but no code plane (cv: tf16c=0) at 9-64
# (9-12 on flat_gemv_multi's block of 16, 13+ the tensor conversion); f32 portable at 1-16 as a
# check. Torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h53/flat.mjs; cp bench/gpu-flat/knobs-h53.sh out/h53/run.sh; git rev-parse --short HEAD > out/h53/COMMIT
# On the device (carry .device and out/h53): source .device/setup.sh && bash out/h53/run.sh (~3 min).
B=out/h53; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'base_gib', r.get('base_gib'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,2,4,5,6,7,8,9,12,13,16,32,64 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n 1000000 --d 768 --nq 1,4,8,9,16 --k 10 --reps 30 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 1,2,4,5,6,7,8,9,12,16 --precisions f16 --experimental 0 --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 9,12,13,16,32,64 --precisions f16 --experimental 1 --variants 'cv:tf16c=0' --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 1,4,8,9,16 --precisions f32 --experimental 0 --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 1,2,4,5,6,7,8,9,12,13,16,64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 1,2,4,5,6,7,8,9,12,16 --precisions f16 --experimental 0 --gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 12,13,16,64 --precisions f16 --experimental 1 --gpu-memory 78.5 --variants 'cv:tf16c=0' --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 31, H100 call h50 (prepared in session 30): k = 100. flat_gemv_multi
# checks its buffers every mci (6) iterations and
# must then leave room for that many iterations' rows, so at k = 100 (512 slots a query) it sorts
# whenever about 30 candidates have come in. Checks every 4 / 2 / 1 iterations against the default,
# f16 at 1M x 4 / 8 / 16 and 21M x 8 queries, f32 at 1M x 8; torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h50/flat.mjs; cp bench/gpu-flat/knobs-h50.sh out/h50/run.sh; git rev-parse --short HEAD > out/h50/COMMIT
# On the device (carry .device and out/h50): source .device/setup.sh && bash out/h50/run.sh (~2 min).
B=out/h50;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;c4:mci=4;c2:mci=2;c1:mci=1;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 4,8,16 --k 100 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 4,8,16 --k 100 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 8 --k 100 --precisions f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 8 --k 100 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 8 --k 100 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "d:;c2:mci=2;c1:mci=1;d2:" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

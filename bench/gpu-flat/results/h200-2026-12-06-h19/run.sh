# Session 27, H100 call h19: fewer workgroup barriers for flat_gemv_multi's block of 8 (5-8 queries),
# where f16 at half of f32's memory is 0.91-0.96x torch fp16 (h18): 512 candidate slots a query
# (msp; 256 by default) leave room for checks every 12 or 15 iterations (mci; 6 since h16, at most 7
# with 256 slots). f16 and f32 (msp / mci are shared). torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h19/flat.mjs; cp bench/gpu-flat/multi-ci-h19.sh out/h19/run.sh; git rev-parse --short HEAD > out/h19/COMMIT
# On the device (carry .device and out/h19): source .device/setup.sh && bash out/h19/run.sh (~1.5 min).
B=out/h19; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;s12:msp=512,mci=12;s15:msp=512,mci=15;s6:msp=512,mci=6;d2:'
timeout 60 python3 $T --n 1000000 --d 768 --nq 5,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 5,8 --precisions f16,f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f16,f32 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

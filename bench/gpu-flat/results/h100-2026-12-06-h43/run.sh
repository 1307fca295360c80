# Session 30, H100 call h43: flat_gemv_multi's dynamic chunks of 1, 2, 3 or 6 iterations
# (kernelTuning.mdyn; h42 measured chunks of one iteration with a barrier each) against the fixed
# segments (mdyn 0, the default), alternating. f16 at half of f32's
# memory (--experimental 0) and f32, torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h43/flat.mjs; cp bench/gpu-flat/knobs-h43.sh out/h43/run.sh; git rev-parse --short HEAD > out/h43/COMMIT
# On the device (carry .device and out/h43): source .device/setup.sh && bash out/h43/run.sh (~3 min).
B=out/h43; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;y1:mdyn=1;y2:mdyn=2;y3:mdyn=3;y6:mdyn=6;d2:;y12:mdyn=1;y32:mdyn=3;y62:mdyn=6'
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,5,7,8,12 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 2,5,7,8,12 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n 1000000 --d 768 --nq 4,8,16 --k 10 --reps 30 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 4,8,16 --precisions f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "d:;y1:mdyn=1;y3:mdyn=3;d2:;y12:mdyn=1;y32:mdyn=3" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

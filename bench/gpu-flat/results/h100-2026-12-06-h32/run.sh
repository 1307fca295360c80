# Session 29, H100 call h32: flat_gemv_multi with fewer lanes a row (LPR: hlpr for f16, mlpr for
# f32; 16, 8 or 4 of the subgroup's 32), so a subgroup scores 2-8 rows' groups at once and each query
# load serves all of them, against the defaults (32 lanes a row). l8s: 8 lanes with 256 candidate
# slots (checks every iteration) in place of 512. f16 at half of f32's memory (--experimental 0),
# torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h32/flat.mjs; cp bench/gpu-flat/knobs-h32.sh out/h32/run.sh; git rev-parse --short HEAD > out/h32/COMMIT
# On the device (carry .device and out/h32): source .device/setup.sh && bash out/h32/run.sh (~2 min).
B=out/h32; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
VH='d:;l16:hlpr=16;l8:hlpr=8;l8s:hlpr=8,msp=256;l4:hlpr=4;d2:'
VF='d:;l16:mlpr=16;l8:mlpr=8;l4:mlpr=4;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 4,5,8,12 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 4,5,8 --precisions f16 --experimental 0 --variants "$VH" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 4,8,12 --precisions f32 --experimental 0 --variants "$VF" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 4,5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "d:;l16:hlpr=16;l8:hlpr=8;l4:hlpr=4;d2:" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

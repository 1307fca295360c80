# Session 29, H100 call h33: flat_gemv_multi's candidate buffers at 128 slots a query (msp 128: 8 KiB
# a workgroup at 8 queries, checks every 3 iterations) against the defaults' 256 (16 KiB, every 6),
# after h19 / h32 found 512 slots (32 KiB) 1.3-1.5x slower; and 16 lanes a row with 256 slots
# (l16s: h32's l16 had 512). f16 at half of f32's memory (--experimental 0), torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h33/flat.mjs; cp bench/gpu-flat/knobs-h33.sh out/h33/run.sh; git rev-parse --short HEAD > out/h33/COMMIT
# On the device (carry .device and out/h33): source .device/setup.sh && bash out/h33/run.sh (~2 min).
B=out/h33; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
VH='d:;s128:msp=128;l16s:hlpr=16,msp=256;d2:'
VF='d:;s128:msp=128;l16s:mlpr=16,msp=256;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 4,5,8,12 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 4,5,8 --precisions f16 --experimental 0 --variants "$VH" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 4,8,12 --precisions f32 --experimental 0 --variants "$VF" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 4,5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$VH" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

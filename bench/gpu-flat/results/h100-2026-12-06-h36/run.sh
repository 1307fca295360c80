# Session 29, H100 call h36: f16 at 9-16 queries through flat_gemv_multi's block of 16 (gemvMulti 15;
# 16 lanes a row by default now) at 4 / 2 / 1 rows an iteration (hmru), with 128-slot buffers (msp
# 128: 16 KiB at 16 queries), or as blocks of 8 (mq16 1), against the default there (flat_fused).
# f16 at half of f32's memory (--experimental 0, where the tensor conversion does not run), torch
# fp16 in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h36/flat.mjs; cp bench/gpu-flat/knobs-h36.sh out/h36/run.sh; git rev-parse --short HEAD > out/h36/COMMIT
# On the device (carry .device and out/h36): source .device/setup.sh && bash out/h36/run.sh (~2 min).
B=out/h36; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
VH='F:;g4:gemvMulti=15,hmru=4;g2:gemvMulti=15,hmru=2;g2s:gemvMulti=15,hmru=2,msp=128;g1:gemvMulti=15,hmru=1;s8:gemvMulti=15,mq16=1;F2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 9,10,12,16 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 9,10,12,16 --precisions f16 --experimental 0 --variants "$VH" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 9,12,16 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 9,12,16 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$VH" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 31, H100 call h52 (run at 123c9a0): the defaults after h51 (mfree 3, m16free 1, hfirst 1, mfirst 0). f16 at
# 1-8 queries over 1M and 21M against torch fp16, the f16 block of 4 (2-4 queries) with and without
# its first-iteration sort (h0 = hfirst 0), f32 k = 100 at 8 queries (mfree 3: checks every 3).
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h52/flat.mjs; cp bench/gpu-flat/knobs-h52.sh out/h52/run.sh; git rev-parse --short HEAD > out/h52/COMMIT
# On the device (carry .device and out/h52): source .device/setup.sh && bash out/h52/run.sh (~1.5 min).
B=out/h52;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], 'k', r.get('k'), r['ms'])"
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 2"
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,2,3,4,5,6,7,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 30 python3 $T --n 1000000 --d 768 --nq 8 --k 100 --reps 30 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 1,2,3,4,5,6,7,8 --k 10 --precisions f16 --experimental 0 --variants "d:;h0:hfirst=0;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 8 --k 100 --precisions f32 --experimental 0 --variants "d:;n0:mfree=0;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 2,4,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 120 node $B/flat.mjs --n $N21 --nq 2,4,8 --k 10 --precisions f16 --experimental 0 --variants "d:;h0:hfirst=0" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

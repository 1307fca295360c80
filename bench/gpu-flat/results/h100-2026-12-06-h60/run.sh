# Session 32, H100 call h60 (run at the COMMIT below): where f32 should start its blocks of 8 first
# (m16split, 16 after h59). h59: blocks first 1.373 ms at 16 queries against the block of 16's 1.543,
# but 1.650 against 1.428 at 12. Here 13-15: d defaults (the block of 16), x = m16split 13 (blocks of
# 8 first), d2 defaults again; 1M and 21M.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h60/flat.mjs; cp bench/gpu-flat/knobs-h60.sh out/h60/run.sh; git rev-parse --short HEAD > out/h60/COMMIT
# On the device (carry .device and out/h60): source .device/setup.sh && bash out/h60/run.sh (~1 min).
B=out/h60;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
timeout 60 python3 $T --n 1000000 --d 768 --nq 13,14,15 --k 10 --reps 30 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 13,14,15 --k 10 --precisions f32 --experimental 0 --variants "d:;x:m16split=13;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 13,15 --k 10 --reps 3 --chunk 4194304 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"
timeout 100 node $B/flat.mjs --n $N21 --nq 13,15 --k 10 --precisions f32 --experimental 0 --variants "d:;x:m16split=13" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

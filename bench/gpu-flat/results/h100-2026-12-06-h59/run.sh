# Session 32, H100 call h59 (run at the COMMIT below): blocks first (mqx, grid swap only) where h57 did
# not time it: f32 at 12 and 16 queries (its block of 16 at m16ru 2 is the default; x = mq16 1, mqx 1:
# blocks of 8 with the shared f32 knobs), and f16 at 13-14 (x: padded blocks of 8 first, against the
# block of 16 that h16split 15 keeps there).
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h59/flat.mjs; cp bench/gpu-flat/knobs-h59.sh out/h59/run.sh; git rev-parse --short HEAD > out/h59/COMMIT
# On the device (carry .device and out/h59): source .device/setup.sh && bash out/h59/run.sh (~1 min).
B=out/h59;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
timeout 60 python3 $T --n 1000000 --d 768 --nq 12,16 --k 10 --reps 30 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 12,16 --k 10 --precisions f32 --experimental 0 --variants "d:;x:mq16=1,mqx=1;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 13,14 --k 10 --precisions f16 --experimental 0 --variants "d:;x:mq16=1,mqx=1;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 16 --k 10 --reps 3 --chunk 4194304 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"
timeout 100 node $B/flat.mjs --n $N21 --nq 16 --k 10 --precisions f32 --experimental 0 --variants "d:;x:mq16=1,mqx=1" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

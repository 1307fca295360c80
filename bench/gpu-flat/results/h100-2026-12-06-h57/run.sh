# Session 32, H100 call h57 (run at the COMMIT below): h56's blocks first (mqx 1) were 1.3-1.8x slower
# than the blocks of 8 on y (mq16 1) at every nq, with their groups of 4 counted at run time. Here
# mqx 1 only swaps the grid (blocks x segments; groups fixed, the last block padded as on y) and mqx 2
# adds the even split with the groups counted in the shader (h56's x), to tell the two apart: at 16
# queries (two full blocks) s and x differ only in the launch order.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h57/flat.mjs; cp bench/gpu-flat/knobs-h57.sh out/h57/run.sh; git rev-parse --short HEAD > out/h57/COMMIT
# On the device (carry .device and out/h57): source .device/setup.sh && bash out/h57/run.sh (~1.5 min).
B=out/h57;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
timeout 60 python3 $T --n 1000000 --d 768 --nq 9,12,16 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 9,12,16 --k 10 --precisions f16 --experimental 0 --variants "d:;s:mq16=1;x:mq16=1,mqx=1;xb:mq16=1,mqx=2;s0:mq16=1,hdyn=0;x0:mq16=1,mqx=1,hdyn=0;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 16 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 120 node $B/flat.mjs --n $N21 --nq 16 --k 10 --precisions f16 --experimental 0 --variants "d:;s:mq16=1;x:mq16=1,mqx=1" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 31, H100 call h55 (run at 9ea2fc0, the bundle of h54): smaller candidate buffers for f16 (h54: 256-slot buffers made the block
# of 16 1.3x slower, as 512 did the block of 8 in h19 / h32: workgroup memory taken from L1, which
# serves the query loads?). s64 = msp 64 (the block of 16: 64 slots, checks every iteration);
# s128 = msp 128 (the block of 8: 128 slots, checks every iteration). Same bundle as h54.
# On the device (carry .device and out/h55): source .device/setup.sh && bash out/h55/run.sh (~30 s).
B=out/h55; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 2"
timeout 40 python3 $T --n 1000000 --d 768 --nq 8,12 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 8,12 --k 10 --precisions f16 --experimental 0 --variants 'd:;s64:msp=64;s128:msp=128;d2:' $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

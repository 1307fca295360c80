# Session 31, H100 call h54 (run at 9ea2fc0): the f16 block of 16 (9-16 queries at half of f32's memory, 0.71-0.82x
# torch fp16 in h53) with fewer lanes a row. At 16 lanes (hlpr) the two half-subgroups read the same
# query words; at 8, four groups share each query load (half the L1 traffic a multiply-add), with
# 64 rows an iteration (RU 2), so 128-slot buffers leave room for one iteration: msp 256 gives 3.
# l8 = hlpr 8; l8s = hlpr 8, msp 256; l8s4 = hlpr 8, msp 256, h16ru 4; s256 = msp 256 alone.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h54/flat.mjs; cp bench/gpu-flat/knobs-h54.sh out/h54/run.sh; git rev-parse --short HEAD > out/h54/COMMIT
# On the device (carry .device and out/h54): source .device/setup.sh && bash out/h54/run.sh (~1.5 min).
B=out/h54;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"
V='d:;l8:hlpr=8;l8s:hlpr=8,msp=256;l8s4:hlpr=8,msp=256,h16ru=4;s256:msp=256;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 9,12,16 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 9,12,16 --k 10 --precisions f16 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 30 python3 $T --n $N21 --d 768 --nq 12 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 120 node $B/flat.mjs --n $N21 --nq 12 --k 10 --precisions f16 --experimental 0 --variants "$V" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

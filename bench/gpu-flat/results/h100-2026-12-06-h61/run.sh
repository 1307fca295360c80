# Session 33, H100 call h61 (run at the COMMIT below): flat_gemv_multi with each subgroup's 4 queries
# in registers (QR: hqreg / mqreg from 5 queries, qru rows a subgroup) against the defaults (f16 5-8
# the block of 8, 9-14 the block of 16, 15-16 blocks of 8 first; f32 9-12 the block of 16, 13-16
# blocks first). Prediction: the block of 16's query loads from L1 go, so f16 16 queries from 1.09 ms
# toward its multiply-add issue (~0.5 ms) and the read (~0.52 ms): 0.7-0.8 ms. 1M, then 21M f16.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h61/flat.mjs; cp bench/gpu-flat/knobs-h61.sh out/h61/run.sh; git rev-parse --short HEAD > out/h61/COMMIT
# On the device (carry .device and out/h61): source .device/setup.sh && bash out/h61/run.sh (~3 min).
B=out/h61;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
V="d:;r4:hqreg=5,mqreg=5,qru=4;r2:hqreg=5,mqreg=5,qru=2;r1:hqreg=5,mqreg=5,qru=1"
timeout 90 python3 $T --n 1000000 --d 768 --nq 5,8,9,12,13,16 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 5,8,9,12,13,16 --k 10 --precisions f16 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 8,9,12,16 --k 10 --precisions f32 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 9,16 --k 10 --reps 3 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 150 node $B/flat.mjs --n $N21 --nq 9,16 --k 10 --precisions f16 --experimental 0 --variants "d:;r4:hqreg=5,qru=4;r2:hqreg=5,qru=2" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

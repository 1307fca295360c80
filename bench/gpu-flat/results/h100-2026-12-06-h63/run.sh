# Session 33, H100 call h63 (run at the COMMIT below): QR rewritten without matrix values and without
# a row function taking six matrices (h61-h62: 2.3-5x slower than the defaults whatever the workgroups,
# chunks, checks or slots; ~13% of the FMA peak, as if each multiply-add read its query column from
# memory). Prediction: if the matrices or the call were what cost, f16 1M nq 16 falls from 2.88 ms
# to below the default's 1.09; else QR stays ~2.9 and is taken out.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h63/flat.mjs; cp bench/gpu-flat/knobs-h63.sh out/h63/run.sh; git rev-parse --short HEAD > out/h63/COMMIT
# On the device (carry .device and out/h63): source .device/setup.sh && bash out/h63/run.sh (~1 min).
B=out/h63; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 2"
V="d:;r4:hqreg=5,mqreg=5,qru=4;r2:hqreg=5,mqreg=5,qru=2;r1:hqreg=5,mqreg=5,qru=1"
timeout 150 node $B/flat.mjs --n 1000000 --nq 8,12,16 --k 10 --precisions f16 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 16 --k 10 --precisions f32 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

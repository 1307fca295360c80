# Session 30, H100 call h48: the f16 blocks of 4 (2-4 queries) and 8 (5-6) with chunks of 1, 2 or 3
# iterations (h4dyn / hdyn) against fixed segments (0), over 21M (h47: 4 queries 10.93 ms with
# chunks of 2, against 10.49 in h38) and 1M. f16 at half of f32's memory (--experimental 0), torch in
# the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h48/flat.mjs; cp bench/gpu-flat/knobs-h48.sh out/h48/run.sh; git rev-parse --short HEAD > out/h48/COMMIT
# On the device (carry .device and out/h48): source .device/setup.sh && bash out/h48/run.sh (~2 min).
B=out/h48;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;s:h4dyn=0,hdyn=0;a1:h4dyn=1,hdyn=1;a3:h4dyn=3,hdyn=3;d2:;s2:h4dyn=0,hdyn=0'
timeout 60 python3 $T --n $N21 --d 768 --nq 2,4,5,6 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 2,4,5,6 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n 1000000 --d 768 --nq 2,4,5,6 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 2,4,5,6 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 29, H100 call h31: flat_gemv_multi's touch-ahead (TA: each step a lane also loads the first
# u32 of the words it will read 1 or 2 iterations later, into a sink, so their sectors are cached
# when the real loads come; hta for f16, mta for f32) against the defaults (no touch). f16 at half of
# f32's memory (--experimental 0), torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h31/flat.mjs; cp bench/gpu-flat/knobs-h31.sh out/h31/run.sh; git rev-parse --short HEAD > out/h31/COMMIT
# On the device (carry .device and out/h31): source .device/setup.sh && bash out/h31/run.sh (~2 min).
B=out/h31; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
VH='d:;t1:hta=1;t2:hta=2;d2:'
VF='d:;m1:mta=1;m2:mta=2;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 4,5,8,12 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 4,5,8 --precisions f16 --experimental 0 --variants "$VH" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 4,8,12 --precisions f32 --experimental 0 --variants "$VF" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 4,5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$VH" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

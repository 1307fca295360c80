# Session 30, H100 call h44: flat_gemv_multi's dynamic chunks, provisional defaults (hdyn 2 / mdyn 2
# for the blocks of 4 and 8, h16dyn 3 and m16dyn 0 for the block of 16) against 1 or 3 iterations a
# chunk and the fixed segments (0), alternating; 21M too. f16 at half of f32's memory
# (--experimental 0), torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h44/flat.mjs; cp bench/gpu-flat/knobs-h44.sh out/h44/run.sh; git rev-parse --short HEAD > out/h44/COMMIT
# On the device (carry .device and out/h44): source .device/setup.sh && bash out/h44/run.sh (~2 min).
B=out/h44; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 40 python3 $T --n 1000000 --d 768 --nq 5,7,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 5,7,8 --precisions f16 --experimental 0 --variants "d:;h1:hdyn=1;h3:hdyn=3;s:hdyn=0;d2:;h12:hdyn=1;h32:hdyn=3;s2:hdyn=0" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 5,7,8,9,12 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 5,7,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "d:;h1:hdyn=1;h3:hdyn=3;s:hdyn=0;d2:;h12:hdyn=1;h32:hdyn=3" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 9,12 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "d:;s:h16dyn=0;h6:h16dyn=6;d2:" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 8 --k 10 --reps 5 --chunk 4194304 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 8 --precisions f32 --experimental 0 --gpu-memory 78.5 --variants "d:;s:mdyn=0;d2:;s2:mdyn=0" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

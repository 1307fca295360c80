# Session 27, H100 call h20: flat_gemv_multi's f16 block of 8 (5-8 queries, 0.91-0.96x torch fp16 at
# half of f32's memory in h18): what Dawn's bounds clamps cost it (disable_robustness, a separate
# process), one workgroup an SM (mtarget 132) and checks every 7 iterations (mci 7, the most 256
# slots allow). torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h20/flat.mjs; cp bench/gpu-flat/block8-h20.sh out/h20/run.sh; git rev-parse --short HEAD > out/h20/COMMIT
# On the device (carry .device and out/h20): source .device/setup.sh && bash out/h20/run.sh (~1 min).
B=out/h20; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;t132:mtarget=132;c7:mci=7;d2:'
timeout 60 python3 $T --n 1000000 --d 768 --nq 5,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 5,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 node $B/flat.mjs --n 1000000 --nq 5,8 --precisions f16 --experimental 0 --toggles disable_robustness --variants 'nr:;nr2:' --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --toggles disable_robustness --variants 'nr:;nr2:' --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 27, H100 call h17: at the defaults of h16 (mfma 1, mci 6), f16's words in flight (hmuw 1
# against 0 = 2) and workgroups (mtarget 396 against 264) for the block of 4 (2-4 queries) and the
# block of 8 (5-8), where h16 had them only without fma / with other knobs. torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h17/flat.mjs; cp bench/gpu-flat/multi-uw-h17.sh out/h17/run.sh; git rev-parse --short HEAD > out/h17/COMMIT
# On the device (carry .device and out/h17): source .device/setup.sh && bash out/h17/run.sh (~1.5 min).
B=out/h17; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;u1:hmuw=1;t396:mtarget=396;u1t396:hmuw=1,mtarget=396;d2:'
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,4,5,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 2,4,5,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 2,4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 2,4,5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 28, H100 call h30: the f16 block of 8 multiplying 5-7 real queries (mpart) with the block of
# 4's settings: 396 workgroups a tile (mtarget 396) and two words in flight (hmuw 2), alone and
# together, against the defaults (264, one word). f16 at half of f32's memory (--experimental 0),
# torch fp16 in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h30/flat.mjs; cp bench/gpu-flat/knobs-h30.sh out/h30/run.sh; git rev-parse --short HEAD > out/h30/COMMIT
# On the device (carry .device and out/h30): source .device/setup.sh && bash out/h30/run.sh (~1 min).
B=out/h30; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;t396:mtarget=396;u2:hmuw=2;tu:mtarget=396,hmuw=2'
timeout 40 python3 $T --n 1000000 --d 768 --nq 5,6,7,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 80 node $B/flat.mjs --n 1000000 --nq 5,6,7,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 5,7,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n $N21 --nq 5,7,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

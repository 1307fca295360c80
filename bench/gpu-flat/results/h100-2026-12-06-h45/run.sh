# Session 30, H100 call h45: with dynamic chunks (the new defaults: mdyn / hdyn 2, h16dyn 3), the
# workgroups a tile (mtarget, 264 by default) no longer have to end together by sharing rows
# evenly: 132 / 198 / 396 / 512 against 264, alternating. f16 at half of f32's memory
# (--experimental 0), torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h45/flat.mjs; cp bench/gpu-flat/knobs-h45.sh out/h45/run.sh; git rev-parse --short HEAD > out/h45/COMMIT
# On the device (carry .device and out/h45): source .device/setup.sh && bash out/h45/run.sh (~2 min).
B=out/h45;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;t132:mtarget=132;t198:mtarget=198;t396:mtarget=396;t512:mtarget=512;d2:;t3962:mtarget=396'
timeout 40 python3 $T --n 1000000 --d 768 --nq 5,7,8,12 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 5,7,8,12 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n 1000000 --d 768 --nq 8 --k 10 --reps 30 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 8 --precisions f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "d:;t198:mtarget=198;t396:mtarget=396;d2:;t3962:mtarget=396" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

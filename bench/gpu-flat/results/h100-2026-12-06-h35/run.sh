# Session 29, H100 call h35: around the new f16 defaults (16 lanes a row, two words in flight for the
# block of 8): 198 / 330 workgroups a tile (mtarget), 8 lanes a row (hlpr 8), checks every 2
# iterations (mci 2), 8 lanes a row with two rows an iteration (r2l8), and the old defaults (o: hlpr 0, hmuw 1). f16 at half of f32's memory
# (--experimental 0), torch fp16 in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h35/flat.mjs; cp bench/gpu-flat/knobs-h35.sh out/h35/run.sh; git rev-parse --short HEAD > out/h35/COMMIT
# On the device (carry .device and out/h35): source .device/setup.sh && bash out/h35/run.sh (~2 min).
B=out/h35; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
VH='d:;t198:mtarget=198;t330:mtarget=330;l8:hlpr=8;r2l8:hlpr=8,hmru=2;c2:mci=2;o:hlpr=0,hmuw=1;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 5,6,7,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 5,6,7,8 --precisions f16 --experimental 0 --variants "$VH" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$VH" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

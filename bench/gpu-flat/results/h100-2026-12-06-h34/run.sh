# Session 29, H100 call h34: 16 lanes a row for f16 (hlpr 16; the buffers now default to 256 slots
# with it), alone and with two words in flight (hmuw 2), 396 workgroups a tile (mtarget 396) or two
# rows an iteration (hmru 2), against the defaults, at 2-8 queries. f16 at half of f32's memory
# (--experimental 0), torch fp16 in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h34/flat.mjs; cp bench/gpu-flat/knobs-h34.sh out/h34/run.sh; git rev-parse --short HEAD > out/h34/COMMIT
# On the device (carry .device and out/h34): source .device/setup.sh && bash out/h34/run.sh (~2 min).
B=out/h34; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
VH='d:;L:hlpr=16;Lu2:hlpr=16,hmuw=2;Lt:hlpr=16,mtarget=396;Lr2:hlpr=16,hmru=2;d2:'
timeout 40 python3 $T --n 1000000 --d 768 --nq 2,3,4,5,6,7,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 2,3,4,5,6,7,8 --precisions f16 --experimental 0 --variants "$VH" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 4,5,6,7,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 4,5,6,7,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$VH" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

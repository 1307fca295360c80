# Session 28, H100 call h25: flat_gemv_multi with the rows' words compiled in (mrwc 1: three steps a
# row at d = 768 f16, a constant the compiler may unroll and hoist loads across), alone and with two
# words in flight (hmuw 2); the counted step loop itself at the defaults (d against h24's figures).
# f16 at half of f32's memory (--experimental 0) and f32, torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h25/flat.mjs; cp bench/gpu-flat/rwc-h25.sh out/h25/run.sh; git rev-parse --short HEAD > out/h25/COMMIT
# On the device (carry .device and out/h25): source .device/setup.sh && bash out/h25/run.sh (~1.5 min).
B=out/h25; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;rw:mrwc=1;rw2:mrwc=1,hmuw=2;d2:'
timeout 60 python3 $T --n 1000000 --d 768 --nq 4,5,8,16 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 4,5,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 4,8,16 --precisions f32 --experimental 0 --variants 'd:;rw:mrwc=1;d2:' --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 4,5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 28, H100 call h21: flat_gemv_multi's f16 blocks with the queries split into half rows
# (hqp 1: a subgroup's query loads contiguous, not 32 bytes apart), read from storage or staged in
# workgroup memory (mqw 1), and with two words in flight (hmuw 2) now that the loads touch half the
# lines. f16 at half of f32's memory (--experimental 0), torch fp16 in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h21/flat.mjs; cp bench/gpu-flat/qp-h21.sh out/h21/run.sh; git rev-parse --short HEAD > out/h21/COMMIT
# On the device (carry .device and out/h21): source .device/setup.sh && bash out/h21/run.sh (~1.5 min).
B=out/h21; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;qp:hqp=1;qpw:hqp=1,mqw=1;qp2:hqp=1,hmuw=2;d2:'
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,4,5,8 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 2,4,5,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 4,5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

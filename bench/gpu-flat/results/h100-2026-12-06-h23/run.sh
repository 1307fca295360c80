# Session 28, H100 call h23: flat_gemv_multi's f16 blocks (4 and 8 queries) in workgroups of 128
# invocations (mwg 128: finer steps of occupancy), at the same workgroup counts and at 512 (about the
# same invocations as 264 of 256), with and without split query halves for the block of 8 (hqp 1;
# h21: 1.2% faster at 21M). f16 at half of f32's memory (--experimental 0); f32 nq 8 at 1M with
# mwg 128 too. torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h23/flat.mjs; cp bench/gpu-flat/wg-h23.sh out/h23/run.sh; git rev-parse --short HEAD > out/h23/COMMIT
# On the device (carry .device and out/h23): source .device/setup.sh && bash out/h23/run.sh (~1.5 min).
B=out/h23; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;qp:hqp=1;w:mwg=128;wt:mwg=128,mtarget=512,h4target=512;wtq:mwg=128,mtarget=512,h4target=512,hqp=1;d2:'
timeout 60 python3 $T --n 1000000 --d 768 --nq 4,5,8 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 4,5,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 8 --precisions f32 --experimental 0 --variants 'd:;w:mwg=128;wt:mwg=128,mtarget=512' --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 4,5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

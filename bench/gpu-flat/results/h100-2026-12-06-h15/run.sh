# Session 27, H100 call h15: flat_gemv_multi's block of 4 (kernelTuning.mq4 1) against the padded block
# of 8 (mq4 0; gemvMultiFrom 2 since h14) at 2-4 queries, f16 (at exactly half of f32's memory, where
# 2-4 queries were 0.86-0.87x torch fp16 in h14) and f32; then f16's 5-8 knobs (hmru, hmuw, mci,
# mtarget) at 8 queries. torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h15/flat.mjs; cp bench/gpu-flat/gemv-multi-four-h15.sh out/h15/run.sh; git rev-parse --short HEAD > out/h15/COMMIT
# On the device (carry .device and out/h15): source .device/setup.sh && bash out/h15/run.sh (~2 min).
B=out/h15; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;q4:mq4=1;d2:;q42:mq4=1'
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,3,4,8 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 2,3,4 --precisions f16,f32 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 2,4,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 2,4 --precisions f16,f32 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
W='d:;r2:hmru=2;u1:hmuw=1;c6:mci=6;t512:mtarget=512;t132:mtarget=132;d2:'
timeout 90 node $B/flat.mjs --n 1000000 --nq 8 --precisions f16 --experimental 0 --variants "$W" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n $N21 --nq 8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$W" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

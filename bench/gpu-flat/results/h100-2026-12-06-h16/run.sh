# Session 27, H100 call h16: flat_gemv_multi's check interval (mci, shared by f32 and f16 at 5-8
# queries; 3 since H200 gm3) and f16's words in flight (hmuw) and workgroups (mtarget) at 5 and 8
# queries, where f16 at exactly half of f32's memory was 0.86-0.88x torch fp16 in h15 (mci 6: 4.4% /
# 3.5% faster at 1M / 21M nq 8); then the block of 4's workgroups (mtarget, within targetWorkgroups) and
# words in flight at 2 and 4 queries (the defaults include mq4 1); and everywhere mfma 1 (inner
# products as fma chains into the accumulators, new in this commit). torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h16/flat.mjs; cp bench/gpu-flat/multi-ci-h16.sh out/h16/run.sh; git rev-parse --short HEAD > out/h16/COMMIT
# On the device (carry .device and out/h16): source .device/setup.sh && bash out/h16/run.sh (~3.5 min).
B=out/h16; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='d:;c6:mci=6;f:mfma=1;c6f:mci=6,mfma=1;c6fu1:mci=6,mfma=1,hmuw=1;c6u1t:mci=6,hmuw=1,mtarget=396;d2:'
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,4,5,8 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 5,8 --precisions f16 --experimental 0 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 2,4,5,8 --k 10 --reps 5 --chunk 4194304 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f16 --experimental 0 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
F='d:;f:mfma=1;t396:mtarget=396;t528:target=528,mtarget=528;u1:hmuw=1,muw=1;c6:mci=6;ft528:mfma=1,target=528,mtarget=528;d2:'
timeout 80 node $B/flat.mjs --n 1000000 --nq 2,4 --precisions f16,f32 --experimental 0 --variants "$F" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 4 --precisions f16,f32 --experimental 0 --gpu-memory 78.5 --variants "$F" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
W='d:;c6:mci=6;f:mfma=1;c6f:mci=6,mfma=1;d2:'
timeout 80 node $B/flat.mjs --n 1000000 --nq 5,8 --precisions f32 --experimental 0 --variants "$W" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n $N21 --nq 5,8 --precisions f32 --experimental 0 --gpu-memory 78.5 --variants "$W" --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

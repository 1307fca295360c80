# Session 31, H100 call h51 (run at 7fedb9e, trimmed before the run; the run.sh as run): flat_gemv_multi's buffer checks. mfree (a check leaves mfree x kf slots a
# query free, lowering the check interval where k is large: h50 measured k = 100 with mci 1-4) and
# mfirst (a check and sort after a workgroup's first iteration, so its thresholds are set before
# CI iterations' rows are appended). Bundle at mfree 2, mfirst 1; n0 = the old defaults (mfree 0,
# mfirst 0), n1 = mfirst 0 alone. k = 10 (where mfree 2 changes only the blocks of 16; f1 = mfree 1) and f16 k = 100,
# f32 16 queries at k = 100, and 8 f16 queries over 21M; torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h51/flat.mjs; cp bench/gpu-flat/knobs-h51.sh out/h51/run.sh; git rev-parse --short HEAD > out/h51/COMMIT
# On the device (carry .device and out/h51): source .device/setup.sh && bash out/h51/run.sh (~2 min).
B=out/h51;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], 'k', r.get('k'), r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], 'k', r.get('k'), r['ms'])"
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 2"
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"
timeout 60 python3 $T --n 1000000 --d 768 --nq 5,8,12,16 --k 10 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"
timeout 60 python3 $T --n 1000000 --d 768 --nq 8,16 --k 100 --reps 30 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"
V='d:;n1:mfirst=0;n0:mfirst=0,mfree=0;f1:mfree=1;d2:'
timeout 120 node $B/flat.mjs --n 1000000 --nq 5,8,12 --k 10 --precisions f16 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 5,8,16 --k 10 --precisions f32 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
V='d:;n0:mfirst=0,mfree=0;f1:mfree=1;f3:mfree=3;d2:'
timeout 120 node $B/flat.mjs --n 1000000 --nq 8,16 --k 100 --precisions f16 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 16 --k 100 --precisions f32 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 30 python3 $T --n $N21 --d 768 --nq 8 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 100 node $B/flat.mjs --n $N21 --nq 8 --k 10 --precisions f16 --experimental 0 --variants "d:;n0:mfirst=0,mfree=0;d2:" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
# The fixed cost: 8 f16 queries over few rows (17k: one iteration a workgroup), with 132 / 264 / 512 workgroups (lists to merge).
for n in 17000 68000 250000; do timeout 20 python3 $T --n $n --d 768 --nq 8 --k 10 --reps 50 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; done
for n in 17000 68000 250000; do timeout 60 node $B/flat.mjs --n $n --nq 8 --k 10 --precisions f16 --experimental 0 --variants "d:;t132:mtarget=132;t512:mtarget=512;n0:mfirst=0,mfree=0;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; done; echo "[$((SECONDS-S0)) s]"

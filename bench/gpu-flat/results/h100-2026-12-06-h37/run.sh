# Session 29, H100 call h37: with allowExperimental and no code plane (tf16c=0: exactly half of f32's
# memory), f16 batches of 9-16 on the tensor conversion (cv, from tensorTuning.f16MinBatch 9) against
# flat_gemv_multi's block of 16 (gm: f16MinBatch 17) and its blocks of 8 (s8: mq16 1), to place
# f16MinBatch. Torch fp16 in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h37/flat.mjs; cp bench/gpu-flat/knobs-h37.sh out/h37/run.sh; git rev-parse --short HEAD > out/h37/COMMIT
# On the device (carry .device and out/h37): source .device/setup.sh && bash out/h37/run.sh (~2 min).
B=out/h37; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
VH='cv:tf16c=0;gm:tf16c=0,tf16min=17;s8:tf16c=0,tf16min=17,mq16=1;cv2:tf16c=0'
timeout 40 python3 $T --n 1000000 --d 768 --nq 9,10,12,13,14,16 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 9,10,12,13,14,16 --precisions f16 --experimental 1 --variants "$VH" --oracle-queries 2 --warm-ms 200 --min-ms 250 --max-reps 200 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 9,12,14,16 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 9,12,14,16 --precisions f16 --experimental 1 --gpu-memory 78.5 --variants "$VH" --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

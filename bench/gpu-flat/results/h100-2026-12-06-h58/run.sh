# Session 32, H100 call h58 (run at the COMMIT below): the defaults after h57. f16 batches of 15-16
# queries run two blocks of 8, blocks first (kernelTuning.h16split 15: mq16 and mqx for them); o =
# h16split 0 (the block of 16, as before). f16 at half memory (--experimental 0), 1M nq 13-16 and
# 21M nq 15-16, torch fp16 in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h58/flat.mjs; cp bench/gpu-flat/knobs-h58.sh out/h58/run.sh; git rev-parse --short HEAD > out/h58/COMMIT
# On the device (carry .device and out/h58): source .device/setup.sh && bash out/h58/run.sh (~1 min).
B=out/h58;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], 'k', r.get('k'), r['ms'])"
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 2"
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"
timeout 60 python3 $T --n 1000000 --d 768 --nq 13,14,15,16 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 13,14,15,16 --k 10 --precisions f16 --experimental 0 --variants "d:;o:h16split=0;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 15,16 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 100 node $B/flat.mjs --n $N21 --nq 15,16 --k 10 --precisions f16 --experimental 0 --variants "d:;o:h16split=0" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

# Session 33, H100 call h64 (NOT RUN: no device could be started after h63; the bundle is of caec38f): two blocks split evenly (meven: QB = ceil(nq / 2)
# queries a block, each multiplying only its own; 13 = 7 + 6) against 8 + the rest padded to 8 and the
# block of 16. d = defaults (f16 9-14 and f32 9-12 the block of 16); e = blocks of 8 first from 9
# (h16split / m16split 9) split evenly (x, the same unsplit, was cut). Prediction (h57-h60): e ~5% faster than the block of
# 16 at f16 13-14 and f32 11-12 (where x lost to the padding and to a light second block), level or
# slower below.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h64/flat.mjs; cp bench/gpu-flat/knobs-h64.sh out/h64/run.sh; git rev-parse --short HEAD > out/h64/COMMIT
# On the device (carry .device and out/h64): source .device/setup.sh && bash out/h64/run.sh (~1 min; trimmed to 1M and the cells that matter after several failed starts).
B=out/h64;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
timeout 90 python3 $T --n 1000000 --d 768 --nq 11,12,13,14 --k 10 --reps 20 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 13,14 --k 10 --precisions f16 --experimental 0 --variants "d:;e:h16split=9,meven=1" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 11,12 --k 10 --precisions f32 --experimental 0 --variants "d:;e:m16split=9,meven=1" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

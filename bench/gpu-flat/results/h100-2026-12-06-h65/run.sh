# Session 34, H100 call h65 (same machine as h64, warm; bundle of the commit in COMMIT): where the even
# split (meven) pays. h64: f16 13 / 14 queries 0.976 / 0.979 ms split evenly (e) against 1.039 / 1.100
# for the defaults (block of 16), f32 11 / 12 1.270 / 1.274 against 1.407 / 1.448. Here e against d at
# f16 9-16 and f32 9-16, torch fp16 / fp32 at the same nq, to set h16split / m16split. And one check of
# the half multiply-adds (hhalf, slower in h64) at k = 1, where k' = 17 candidates cost little.
# On the device: source .device/setup.sh && bash out/h65/run.sh (~90 s).
B=out/h65;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], 'k', r.get('k'), r['ms'])"
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 4"
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"
H="vulkan_enable_f16_on_nvidia"
timeout 60 python3 $T --n 1000000 --d 768 --nq 9,10,11,12,13,14,15,16 --k 10 --reps 20 --dtypes float16,float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 9,10,11,12,15,16 --k 10 --precisions f16 --experimental 0 --variants "d:;e:h16split=9,meven=1" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 9,10,13,14,15,16 --k 10 --precisions f32 --experimental 0 --variants "d:;e:m16split=9,meven=1" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 16 --k 1 --precisions f16 --experimental 0 --toggles $H --variants "d:;a:hhalf=1" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

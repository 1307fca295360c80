# Session 34, H100 call h64 (ran 21:08 UTC, no kind asked; bundle of the commit in COMMIT). Two things, torch in the same call:
# 1. Even split (meven, session 33, untimed): two blocks of ceil(nq / 2) queries, each multiplying only
#    its own (13 = 7 + 6), against 8 + the rest and the block of 16. d = defaults; e = blocks of 8
#    first from 9 (h16split / m16split 9) split evenly. Predicted ~5% faster than the block of 16 at
#    f16 13-14 / f32 11-12.
# 2. Half multiply-adds (hhalf, the shader's HA): with Dawn's vulkan_enable_f16_on_nvidia the H100
#    has shader-f16; the queries staged as halves, each lane's share of a row summed in f16 pairs
#    (HFMA2: half the multiply-add instructions and query loads of fp32), then in f32. Approximate
#    scores (oracle recall reported). d = defaults under the same toggle (native decode); a = hhalf;
#    b = hhalf at 4 rows a subgroup. 32 and 64 queries: HA as
#    blocks of 16 launched together (QX), where the defaults take flat_fused.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h64/flat.mjs; cp bench/gpu-flat/knobs-h64.sh out/h64/run.sh; git rev-parse --short HEAD > out/h64/COMMIT
# On the device (carry .device and out/h64): source .device/setup.sh && bash out/h64/run.sh (~3 min; trimmed after a machine was taken back mid-call).
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
F="--warm-ms 200 --min-ms 250 --max-reps 200 --oracle-queries 8"
G="--gpu-memory 78.5 --check-rows 2 --warm-ms 200 --min-ms 150 --max-reps 5"
H="vulkan_enable_f16_on_nvidia"
timeout 90 python3 $T --n 1000000 --d 768 --nq 8,9,12,13,16,32,64 --k 10 --reps 20 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 8,9,12,13,16,32,64 --k 10 --precisions f16 --experimental 0 --toggles $H --variants "d:;a:hhalf=1;b:hhalf=1,hmru=4,h16ru=4" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 16,64 --k 10 --reps 3 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 120 node $B/flat.mjs --n $N21 --nq 16,64 --k 10 --precisions f16 --experimental 0 --toggles $H --variants "d:;a:hhalf=1" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n 1000000 --d 768 --nq 11,12 --k 10 --reps 20 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"
timeout 90 node $B/flat.mjs --n 1000000 --nq 13,14 --k 10 --precisions f16 --experimental 0 --variants "d:;e:h16split=9,meven=1" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 11,12 --k 10 --precisions f32 --experimental 0 --variants "d:;e:m16split=9,meven=1" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

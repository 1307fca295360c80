# Session 33, H100 call h62 (same bundle as h61, COMMIT below): why the queries in registers (QR) ran
# 2.3-5x slower in h61 (f16 1M nq 16 2.87 ms at RU 4 against 1.09; time flat in nq within a block,
# RU 4 < 2 < 1). Hypotheses: each subgroup's loads wait a full memory latency an iteration (one
# workgroup an SM if the matrices take ~100 registers; P = 8 rows an iteration); the checks' barriers
# 4x as often (CI iterations of 8 rows); the dynamic chunks' claims 4x as often. Variants at RU 4:
# workgroups a tile 132 / 528, no dynamic chunks, checks as rarely as the buffers allow. And d = 384,
# where a lane holds 3 query slots (QRS, new) instead of 6: if registers are what costs, QR gains there.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h62/flat.mjs; cp bench/gpu-flat/knobs-h62.sh out/h62/run.sh; git rev-parse --short HEAD > out/h62/COMMIT
# On the device (carry .device and out/h62): source .device/setup.sh && bash out/h62/run.sh (~2 min).
B=out/h62;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
R="hqreg=5,qru=4"
V="d:;r4:$R;t1:$R,mtarget=132;t5:$R,mtarget=528;nd:$R,hdyn=0,h16dyn=0;c:$R,mci=24;all:$R,mtarget=528,hdyn=0,h16dyn=0,mci=24"
timeout 200 node $B/flat.mjs --n 1000000 --nq 8,16 --k 10 --precisions f16 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --d 384 --nq 8,16 --k 10 --precisions f16,f32 --experimental 0 --variants "d:;r4:$R,mqreg=5;r2:hqreg=5,mqreg=5,qru=2" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

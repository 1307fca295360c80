# Session 32, H100 call h56 (run at the COMMIT below): flat_gemv_multi's query blocks first (mqx, the
# shader's QX) at 9-16 queries. mq16 1 runs a batch of 9-16 as two blocks of 8 (each reads the rows: h36
# measured them 1.19-1.21 ms at 1M against the block of 16's 0.88-1.38); with mqx the dispatch is
# (blocks, segments), so a segment's two blocks are launched together and the second reads the rows
# from L2, and the batch is split evenly (9 = 5 + 4). Variants: d defaults (the block of 16), s blocks
# of 8 on y, x blocks first, x0 blocks first with fixed segments (hdyn / mdyn 0: the two blocks in step),
# xt blocks first at 512 workgroups (256 segments a block), d2 defaults again. f16 at half memory
# (--experimental 0; cv: the conversion at 13-16 as the defaults with allowExperimental, no code plane).
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h56/flat.mjs; cp bench/gpu-flat/knobs-h56.sh out/h56/run.sh; git rev-parse --short HEAD > out/h56/COMMIT
# On the device (carry .device and out/h56): source .device/setup.sh && bash out/h56/run.sh (~4 min).
B=out/h56;N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
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
V="d:;s:mq16=1;x:mq16=1,mqx=1;x0:mq16=1,mqx=1,hdyn=0,mdyn=0;xt:mq16=1,mqx=1,mtarget=512;d2:"
timeout 60 python3 $T --n 1000000 --d 768 --nq 9,10,12,13,14,16 --k 10 --reps 30 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 60 python3 $T --n 1000000 --d 768 --nq 9,12,16 --k 10 --reps 30 --dtypes float32 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 9,10,12,13,14,16 --k 10 --precisions f16 --experimental 0 --variants "$V" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 node $B/flat.mjs --n 1000000 --nq 13,16 --k 10 --precisions f16 --experimental 1 --variants "cv:tf16c=0" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 90 node $B/flat.mjs --n 1000000 --nq 9,12,16 --k 10 --precisions f32 --experimental 0 --variants "d:;x:mq16=1,mqx=1;x0:mq16=1,mqx=1,hdyn=0,mdyn=0;d2:" $F 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 40 python3 $T --n $N21 --d 768 --nq 9,12,16 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"
timeout 150 node $B/flat.mjs --n $N21 --nq 9,12,16 --k 10 --precisions f16 --experimental 0 --variants "d:;x:mq16=1,mqx=1;x0:mq16=1,mqx=1,hdyn=0,mdyn=0;xt:mq16=1,mqx=1,mtarget=512" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

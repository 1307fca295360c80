# The closing grid for issue 4, prepared in session 21 (2026-12-05) for an H100 (nvidia-h100-x1) and
# never run: no device could be started that session. Bundles (clean worktree at the commit measured;
# carry .device and out/h1):
#   for p in "gpu-flat/run.ts flat" "gpu-int8/run.ts int8" "gpu-tensor/split.ts split" "gpu-load/scale.ts scale"; do
#     set -- $p; npx esbuild bench/$1 --bundle --minify --platform=node --format=esm --loader:.wgsl=text \
#       --external:webgpu --ignore-annotations --outfile=out/h1/$2.mjs; done
#   cp bench/gpu-flat/summary.mjs out/h1/; git rev-parse HEAD > out/h1/COMMIT; cp bench/gpu-flat/closing-grid.sh out/h1/run.sh
# On the device: source .device/setup.sh && bash out/h1/run.sh   (on an H200: SCALE=0 skips the 21M file load)
set -o pipefail
R=${OUT:-/tmp/h1r}; OUT=/tmp/h1w; mkdir -p $OUT $R
B=${B:-out/h1}
N21=21015324
NQ=1,16,64,256,1024
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT); shm $(df -h /dev/shm | tail -1)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 150 node $B/flat.mjs --n 1000000 --nq $NQ --precisions f32,f16 --experimental 0 --ceilings 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el flat-1m-x0 $?
timeout 150 node $B/flat.mjs --n 1000000 --nq $NQ --precisions f32,f16 --experimental 1 --variants 'c:tf16c=1;h:tf16c=0' --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el flat-1m-x1 $?
timeout 120 node $B/int8.mjs --n 1000000 --unquantised 1 --nq $NQ --min-ms 300 --max-reps 40 --variants 'warm:nq=64/256;d;d2' > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; el int8-1m $?
timeout 150 python3 $T --n $N21 --d 768 --nq 1,16,64,256 --k 10 --reps 3 --chunk 4194304 --dtypes float16,float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 100 python3 $T --n $N21 --d 768 --nq 1024 --k 10 --reps 2 --chunk 1048576 --dtypes float16,float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m-1024 $?
timeout 150 node $B/flat.mjs --n $N21 --nq $NQ --precisions f32,f16 --experimental 0 --gpu-memory 79.6 --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el flat-21m-x0 $?
timeout 200 node $B/flat.mjs --n $N21 --nq $NQ --precisions f32,f16 --experimental 1 --gpu-memory 79.6 --variants 'c:tf16c=1;h:tf16c=0' --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el flat-21m-x1 $?
timeout 120 node $B/split.mjs --precision int8 --n $N21 --nq 16,64,256 --reps 3 --variants 'w;d' > $OUT/split21.jsonl 2>> $OUT/logs.txt; el split-int8-21m $?
timeout 90 node $B/flat.mjs --n $N21 --nq 16,64 --precisions f32 --experimental 1 --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 > $OUT/flat-nomem.jsonl 2>> $OUT/nomem.txt; el flat-21m-f32-no-gpu-memory $?
node $B/summary.mjs $OUT/torch.jsonl $OUT/flat.jsonl > $OUT/summary.txt 2>&1
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'], 'temp', r['temp_gib'])"
for f in $OUT/flat*.jsonl; do echo $f; grep -h '^{' $f | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' not in r: print(l[:300]); continue
  print(r['precision'], r['n'], r['nq'], r.get('variant',''), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'k', r.get('gpu_k'), 'rec', r.get('recall_vs_f32'), 'or', r.get('oracle_ok'), 'ids1', r.get('ids_as_first'), 'temp', r['temp_gib'], 'base', r['base_gib'])"; done
grep -h '"recall' $OUT/int8-1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('int8', r.get('variant'), r.get('nq'), 'gpu', r.get('gpu_ms'), 'wall', r.get('wall_ms'), 'recall', r.get('recall_at_10'))" 2>/dev/null | head -30
cat $OUT/split21.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print('split', r['precision'], r['n'], r['nq'], r['variant'], 'score', r['score_us'], 'span', r['span_us'])"
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "rror\|self-search" $OUT/logs.txt | cut -c1-300 | head -8
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/nomem.txt | cut -c1-400 | head -8
cat $OUT/info.txt
tar czf $R/h1.tgz -C $OUT . ; cp $OUT/summary.txt $OUT/info.txt $R/
if [ "${SCALE:-1}" = 1 ] && [ $((SECONDS-S0)) -lt 330 ]; then timeout 240 node $B/scale.mjs --dir /dev/shm --nq 1,64 --reps 2 --out $OUT/scale.jsonl > $OUT/scale.txt 2>&1; el scale21m $?; rm -f /dev/shm/*.faiss* 2>/dev/null; tail -5 $OUT/scale.txt | cut -c1-600; cp $OUT/scale.jsonl $OUT/scale.txt $R/; cp $OUT/info.txt $R/; fi

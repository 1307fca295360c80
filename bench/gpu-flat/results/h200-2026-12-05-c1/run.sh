# Lead's call "c1" (2026-12-05, eighteenth session): the summary grid once more at the current defaults,
# after session 17's host-side GPU changes (score-range check fused into checkSearch, f16 subnormal row
# check, int8 load magnitudes, row_absmax pass warmed by warmUp); no WGSL kernel changed since h9/p8/f5.
# torch fp16 / fp32 in the same call (--chunk 4194304 at 21M): f32 and f16 at 1M and 21M, portable
# kernels (--experimental 0) and allowExperimental (--experimental 1); int8 at 1M (bench/gpu-int8/run.ts:
# host rows in memory, re-rank in wall) and at 21M by split.ts (the shard's GPU time).
# Bundles (clean worktree of out/c1/COMMIT; carry .device, out/c1): npx esbuild bench/gpu-flat/run.ts,
#   bench/gpu-int8/run.ts and bench/gpu-tensor/split.ts --bundle --platform=node --format=esm
#   --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/c1/{flat,int8,split}.mjs;
#   bench/gpu-flat/summary.mjs copied
# On the device: source .device/setup.sh && bash out/c1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/c1}; mkdir -p $OUT
B=${B:-out/c1}
N21=21015324
NQ=1,16,64,256,1024
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
for x in 0 1; do
  timeout 150 node $B/flat.mjs --n 1000000 --nq $NQ --precisions f32,f16 --experimental $x --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 > $OUT/flat1m-x$x.jsonl 2>> $OUT/logs.txt; el flat-1m-x$x $?
done
timeout 120 node $B/int8.mjs --n 1000000 --unquantised 1 --nq $NQ --min-ms 300 --max-reps 40 --variants 'warm:nq=64/256;d;d2' > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; el int8-1m $?
timeout 150 python3 $T --n $N21 --d 768 --nq $NQ --k 10 --reps 3 --chunk 4194304 --dtypes float16,float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
for x in 0 1; do
  timeout 200 node $B/flat.mjs --n $N21 --nq $NQ --precisions f32,f16 --experimental $x --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 > $OUT/flat21m-x$x.jsonl 2>> $OUT/logs.txt; el flat-21m-x$x $?
done
timeout 150 node $B/split.mjs --precision int8 --n $N21 --nq 16,64,256 --reps 3 --variants 'w;d' > $OUT/split21.jsonl 2>> $OUT/logs.txt; el split-int8-21m $?
for x in 0 1; do node $B/summary.mjs $OUT/torch.jsonl $OUT/flat1m-x$x.jsonl $OUT/flat21m-x$x.jsonl > $OUT/summary-x$x.txt 2>&1; done
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
for f in $OUT/flat*.jsonl; do echo $f; grep -h '^{' $f | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'recall', r.get('recall_vs_f32'), 'oracle', r.get('oracle_ok'), 'temp', r['temp_gib'], 'base', r['base_gib'], 'host', json.dumps(r.get('host_ms')))"; done
grep -h '"recall' $OUT/int8-1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('int8', r.get('variant'), r.get('nq'), 'gpu', r.get('gpu_ms'), 'wall', r.get('wall_ms'), 'recall', r.get('recall_at_10'))" 2>/dev/null | head -30
cat $OUT/split21.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print('split', r['precision'], r['n'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'span', r['span_us'])"
grep -h "rror\|self-search" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

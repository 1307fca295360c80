# Lead's call "h8" (2026-12-04, fourth session): merge_one at larger batches after call h7 (there 2.5-4x
# faster merges at 5-64 queries behind the tensor scorer): bench/gpu-tensor/split.ts at 1M, int8 and
# f16 at 64-512 queries, f32 at 16-256 (flat_fused, fewer lists), variants w = warm-up (defaults),
# d = defaults (merge_one up to 4 queries), m = merge_one up to 512, d2 = defaults again.
# Bundle (clean worktree of out/h8/COMMIT): npx esbuild bench/gpu-tensor/split.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h8/split.mjs
# On the device: source .device/setup.sh && bash out/h8/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h8}; mkdir -p $OUT
B=${B:-out/h8}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 120 node $B/split.mjs --precision int8 --n 1000000 --nq 64,128,256,512 --reps 7 --variants 'w;d;m:m1max=512;d2' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split-int8 $?
timeout 120 node $B/split.mjs --precision f16 --n 1000000 --nq 64,128,256,512 --reps 7 --variants 'w;d;m:m1max=512;d2' >> $OUT/split.jsonl 2>> $OUT/logs.txt; el split-f16 $?
timeout 150 node $B/split.mjs --precision f32 --n 1000000 --nq 5,16,64,256 --reps 7 --variants 'w;d;m:m1max=512;d2' >> $OUT/split.jsonl 2>> $OUT/logs.txt; el split-f32 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print('split', r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], '|', ' '.join('%s:%s:%s' % (s['label'][:12], s['groups'], s['us']) for s in r['steps'] if s['label'].startswith('merge')))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

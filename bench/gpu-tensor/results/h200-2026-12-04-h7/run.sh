# Lead's call "h7" (2026-12-04, fourth session): merge_one for larger batches (kernelTuning.
# mergeOneMaxBatch, 4 by default) after the tensor scorer, where merge_lists' two levels take
# ~0.14 ms at 9-64 queries (calls h3 / h6): bench/gpu-tensor/split.ts at 1M, int8 and f16, variants
# w = warm-up (defaults), d = defaults, m16 / m64 = merge_one up to 16 / 64 queries, d2 = defaults again.
# Bundle (clean worktree of out/h7/COMMIT): npx esbuild bench/gpu-tensor/split.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h7/split.mjs
# On the device: source .device/setup.sh && bash out/h7/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h7}; mkdir -p $OUT
B=${B:-out/h7}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 120 node $B/split.mjs --precision int8 --n 1000000 --nq 5,8,16,32,64 --reps 7 --variants 'w;d;m16:m1max=16;m64:m1max=64;d2' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split-int8 $?
timeout 120 node $B/split.mjs --precision f16 --n 1000000 --nq 9,16,32,64 --reps 7 --variants 'w;d;m16:m1max=16;m64:m1max=64;d2' >> $OUT/split.jsonl 2>> $OUT/logs.txt; el split-f16 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print('split', r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], '|', ' '.join('%s:%s:%s' % (s['label'][:12], s['groups'], s['us']) for s in r['steps'] if s['label'].startswith('merge')))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

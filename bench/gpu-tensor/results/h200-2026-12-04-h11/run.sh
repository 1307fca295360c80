# Lead's call "h11" (2026-12-04, fourth session): merge_one at every batch (since calls h7-h8, which
# measured k' = 40 / k = 10) at larger k: bench/gpu-tensor/split.ts at 1M, f32 and f16 (k 100 / 1000:
# flat_fused, no tensor scorer), int8 k 100 (k' 400: flat_fused's int8 decode), variants w = warm-up,
# d = defaults (merge_one), ml = merge_lists above 4 queries (m1max=4, the default before), d2.
# Bundle (clean worktree of out/h11/COMMIT): npx esbuild bench/gpu-tensor/split.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h11/split.mjs
# On the device: source .device/setup.sh && bash out/h11/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h11}; mkdir -p $OUT
B=${B:-out/h11}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 120 node $B/split.mjs --precision f32 --k 100 --n 1000000 --nq 16,64,256,1024 --reps 5 --variants 'w;d;ml:m1max=4;d2' > $OUT/split.jsonl 2>> $OUT/logs.txt; el f32-k100 $?
timeout 120 node $B/split.mjs --precision f32 --k 1000 --n 1000000 --nq 16,64,256 --reps 3 --variants 'w;d;ml:m1max=4;d2' >> $OUT/split.jsonl 2>> $OUT/logs.txt; el f32-k1000 $?
timeout 120 node $B/split.mjs --precision f16 --k 100 --n 1000000 --nq 16,64,256 --reps 5 --variants 'w;d;ml:m1max=4;d2' >> $OUT/split.jsonl 2>> $OUT/logs.txt; el f16-k100 $?
timeout 120 node $B/split.mjs --precision int8 --k 100 --n 1000000 --nq 16,64,256 --reps 5 --variants 'w;d;ml:m1max=4;d2' >> $OUT/split.jsonl 2>> $OUT/logs.txt; el int8-k100 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print(r['precision'], r['nq'], r['variant'], 'score', r['score_us'], 'merge', r['merge_us'], 'span', r['span_us'], '|', ' '.join('%s:%s:%s' % (s['label'][:14], s['groups'], s['us']) for s in r['steps'] if s['label'].startswith('merge')))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

# Lead's call "h2" (2026-12-04, fourth session): where an f16 search through the tensor cores spends
# its GPU time (call h1: 3.6-8.1 ms at 1M x 9-64 queries, int8 takes 0.6-0.84), dispatch by
# dispatch (bench/gpu-tensor/split.ts --precision f16): x = the f16 kernels (tensorTuning.f16 off),
# d = defaults, np = no prefetch, r2 = 32-row tiles at every batch; int8's defaults for reference.
# Bundle (clean worktree of out/h2/COMMIT): npx esbuild bench/gpu-tensor/split.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h2/split.mjs
# On the device: source .device/setup.sh && bash out/h2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h2}; mkdir -p $OUT
B=${B:-out/h2}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 200 node $B/split.mjs --precision f16 --n 1000000 --nq 9,16,32,64,256 --reps 5 --variants 'x:tf16=0;d;np:tpf=0;r2:trtm=2,tmid=0;x2:tf16=0;d2' > $OUT/split-f16.jsonl 2>> $OUT/logs.txt; el split-f16 $?
timeout 100 node $B/split.mjs --precision int8 --n 1000000 --nq 16,64 --reps 5 --variants 'd' > $OUT/split-int8.jsonl 2>> $OUT/logs.txt; el split-int8 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/split-f16.jsonl $OUT/split-int8.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print(r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], r['key'][-60:])
  print('   ', ' | '.join('%s %s %s' % (s['label'][:40], s['groups'], s['us']) for s in r['steps'])[:600])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

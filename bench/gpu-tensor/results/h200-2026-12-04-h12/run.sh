# Lead's call "h12" (2026-12-04, fourth session): f16 on the tensor cores with several warps a
# workgroup sharing the staged (and, for f16, converted) rows: at 64+ queries each 32-query block
# converts every row again, so sharing a chunk between 2-4 warps halves or quarters the conversions
# (int8 measured 1.2-1.3x slower with several warps, run 'warps'). bench/gpu-tensor/split.ts, 1M,
# variants w (warm-up), d (1 warp), w2 / w4 (2 / 4 warps), w2b (2 warps, warpBranch), d2.
# Bundle (clean worktree of out/h12/COMMIT): npx esbuild bench/gpu-tensor/split.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h12/split.mjs
# On the device: source .device/setup.sh && bash out/h12/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h12}; mkdir -p $OUT
B=${B:-out/h12}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 200 node $B/split.mjs --precision f16 --n 1000000 --nq 64,128,256,512 --reps 5 --variants 'w;d;w2:tw=2;w4:tw=4;w2b:tw=2,twbr=1;d2' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split-f16 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print(r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], r['key'][:40], '|', ' '.join('%s:%s' % (s['groups'], s['us']) for s in r['steps']))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

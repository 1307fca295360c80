# Lead's call "f12" (2026-12-04, fifth session): int8 on the tensor cores with 64-row tiles below
# midBatch (trt 4), as f16's code plane took in calls f9-f10: the shard's GPU time by dispatch
# (split.ts, no host re-rank), each variant twice, 1M x 768, k' = 40.
# Bundle (clean worktree of out/f12/COMMIT): npx esbuild bench/gpu-tensor/split.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f12/split.mjs
# On the device: source .device/setup.sh && bash out/f12/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f12}; mkdir -p $OUT
B=${B:-out/f12}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 150 node $B/split.mjs --precision int8 --n 1000000 --nq 5,8,16,24 --reps 9 --variants 'w;d;r4:trt=4;d2;r42:trt=4' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split-int8 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print(r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'span', r['span_us'], r['key'][:50])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

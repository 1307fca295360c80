# gpu-int8 call e2 (2026-12-04, second session): int8_gemv's shared bounds (int8GemvTuning.share,
# default 8 buckets) against none (share=0), 4 and 16 buckets, with 16- and 8-bit queries, at
# 1M and 21M x 1 query (and 4 queries at 1M); recall@10 of 8- against 16-bit queries through
# run.ts (int8_gemv up to 16 queries there: maxb=16). GPU ms unquantised; read floor from the
# call's read kernel; torch at nq = 1 in the same call.
# Bundles (carry .device, out/e2), from a clean worktree of the commit in out/e2/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e2/nq1.mjs   (run.ts the same, run.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e2}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e2/COMMIT)" >> $INFO
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1,4 --k 10 --reps 30 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm;d;s0:share=0;s4:share=4;s16:share=16;q8:qbits=8;q8s0:qbits=8,share=0;q8c6:qbits=8,ci=6;d2;s0b:share=0;q8b:qbits=8;s4b:share=4;d4:nq=4;s04:share=0,nq=4;q84:qbits=8,nq=4;d3"
timeout 150 node out/e2/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;d;s0:share=0;q8:qbits=8;d2;s0b:share=0;q8b:qbits=8"
timeout 150 node out/e2/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
timeout 150 node out/e2/run.mjs --n 1000000 --nq 1,4,16 --unquantised 1 --host-rows memory --variants "d;q8:qbits=8;q16m:maxb=16;q8m:qbits=8,maxb=16" > $OUT/recall-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] recall 1M rc=$?" | tee -a $INFO
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-400
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-220
grep -h '^{' $OUT/recall-1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  print(r.get('variant'), r.get('nq'), r.get('kernel'), 'gpu', r.get('gpu_ms'), 'wall', r.get('wall_ms'), 'recall', r.get('recall_at_10'), r.get('error',''))"
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

# gpu-int8 call e3 (2026-12-04, second session): int8_gemv's shared bounds after e2, now read
# through one bound word a query (7b40b40): share 8 / 4 / 16 against none, the bound word's read
# and fold patched out (noboundread / nofold: what they cost), 16- and 8-bit queries, at 1M and
# 21M x 1 query and 1M x 4; recall@10 of 8- against 16-bit queries over 64 queries through run.ts
# (int8_gemv for all 64: maxb=64). GPU ms unquantised; read floor from the call's read kernel.
# Bundles (carry .device, out/e3), from a clean worktree of the commit in out/e3/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e3/nq1.mjs   (run.ts the same, run.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e3}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e3/COMMIT)" >> $INFO
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1,4 --k 10 --reps 30 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm;d;s0:share=0;s4:share=4;s16:share=16;nb:patch=noboundread;nf:patch=nofold;q8:qbits=8;q8s0:qbits=8,share=0;d2;s0b:share=0;q8b:qbits=8;d4:nq=4;s04:share=0,nq=4;q84:qbits=8,nq=4;q8s04:qbits=8,share=0,nq=4;d3;s0c:share=0"
timeout 150 node out/e3/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;d;s0:share=0;q8:qbits=8;q8s0:qbits=8,share=0;d2;s0b:share=0;q8b:qbits=8"
timeout 150 node out/e3/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
timeout 150 node out/e3/run.mjs --n 1000000 --nq 64 --unquantised 1 --host-rows memory --variants "q16m:maxb=64;q8m:qbits=8,maxb=64;q8ms0:qbits=8,maxb=64,share=0" > $OUT/recall-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] recall 1M rc=$?" | tee -a $INFO
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-400
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-220
grep -h '^{' $OUT/recall-1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  print(r.get('variant'), r.get('nq'), r.get('kernel'), 'gpu', r.get('gpu_ms'), 'wall', r.get('wall_ms'), 'recall', r.get('recall_at_10'), r.get('error',''))"
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

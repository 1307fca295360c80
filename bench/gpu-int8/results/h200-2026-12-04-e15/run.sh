# gpu-int8 call e15 (2026-12-04, second session): merge_one's threshold from int8_gemv's shared
# bound words (315be5f), all defaults (bounds on from one query) against no bounds (share=0), at
# 1M x 1 / 2 / 4 queries and 21M x 1 / 4; f16 / f32 one query (unchanged path) as a check.
# Bundle (carry .device, out/e15), from a clean worktree of the commit in out/e15/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e15/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e15/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e15}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e15/COMMIT)" >> $INFO
V="warm;d;s0:share=0;d2;s0b:share=0;n2:nq=2;n2s0:nq=2,share=0;n4:nq=4;n4s0:nq=4,share=0;d3;s0c:share=0"
timeout 150 node out/e15/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
timeout 100 node out/e15/nq1.mjs --n 1000000 --precisions f16,f32 --reps 60 --wall 0 --variants "warm;d" > $OUT/f16f32-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] f16/f32 1M rc=$?" | tee -a $INFO
V="warm;d;s0:share=0;d2;s0b:share=0;n4:nq=4;n4s0:nq=4,share=0"
timeout 150 node out/e15/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | cut -c1-200 | head; true

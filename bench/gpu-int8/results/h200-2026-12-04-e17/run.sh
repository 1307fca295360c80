# gpu-int8 call e17 (2026-12-04, second session): with shared bounds on, checks (and bound reads)
# every 1 / 2 / 4 / 6 iterations against the default 3 (int8GemvTuning.ci), at 1M x 1 / 4 queries
# and 21M x 1 / 4.
# Bundle (carry .device, out/e17), from a clean worktree of the commit in out/e17/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e17/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e17/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e17}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e17/COMMIT)" >> $INFO
V="warm;d;c1:ci=1;c2:ci=2;c4:ci=4;c6:ci=6;d2;c1b:ci=1;c2b:ci=2;n4:nq=4;n4c1:nq=4,ci=1;n4c2:nq=4,ci=2;d3"
timeout 150 node out/e17/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;d;c1:ci=1;c2:ci=2;c4:ci=4;c6:ci=6;d2;c1b:ci=1;c2b:ci=2;n4:nq=4;n4c1:nq=4,ci=1;n4c2:nq=4,ci=2;d3"
timeout 150 node out/e17/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | cut -c1-200 | head; true

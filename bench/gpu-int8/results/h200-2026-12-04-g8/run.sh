# Lead's call "g8" (2026-12-04, third session): int8_gemv with prefetch (pf=1: the next
# iteration's words loaded before the current ones are scored) against the default, at the default
# 528 workgroups and at 396 / 1056 (prefetch takes registers: fewer workgroups may fit an SM),
# 1-4 queries at 1M and 1 / 4 at 21M, back to back by nq1.ts, alternating.
# Bundle (clean worktree of the commit in out/g8/COMMIT; carry .device, out/g8):
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/g8/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g8/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g8}; mkdir -p $OUT
B=${B:-out/g8}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
V="warm;d;pf:pf=1;pf396:pf=1,gt=396;pf1056:pf=1,gt=1056;d2;pf2:pf=1;o2:nq=2;p2:nq=2,pf=1;o4:nq=4;p4:nq=4,pf=1;d3;pf3:pf=1"
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m $?
V="warm;d;pf:pf=1;d2;pf2:pf=1;o4:nq=4;p4:nq=4,pf=1"
timeout 120 node $B/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/nq1-21m.jsonl 2>> $OUT/logs.txt; el nq1-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-220
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-150
grep -h "rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

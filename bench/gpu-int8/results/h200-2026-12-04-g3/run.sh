# Lead's call "g3" (2026-12-04, third session): merge_one's one level (the shader's ONE) with its
# threshold from the k-th best of 256 group bests of the lists' heads (6e71a35), against the two levels
# (m1bound=0), 1-4 queries at 1M and one at 21M (m1bound=1e9 there: 21M's lists exceed the default
# 32768 pairs), back to back by nq1.ts, alternating.
# Bundle (clean worktree of the commit in out/g3/COMMIT; carry .device, out/g3):
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/g3/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g3}; mkdir -p $OUT
B=${B:-out/g3}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
V="warm;old:m1bound=0;one;old2:m1bound=0;one2;o2:nq=2,m1bound=0;n2:nq=2;o4:nq=4,m1bound=0;n4:nq=4;old3:m1bound=0;one3"
timeout 120 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m $?
V="warm;old:m1bound=0;one:m1bound=1000000000;old2:m1bound=0;one2:m1bound=1000000000;o4:nq=4,m1bound=0;n4:nq=4,m1bound=1000000000"
timeout 120 node $B/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/nq1-21m.jsonl 2>> $OUT/logs.txt; el nq1-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-220
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-190
grep -h "rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

# Lead's call "g5" (2026-12-04, third session): g3 -> g4 cut merge_one's one level from 0.0324 to
# 0.0288 ms by taking its loads out from behind branches. Do the scan's row loads (patch ldsel) and
# the default merge levels' pair loads (mpatch msel) gain the same way? 1M x 1 / 4 and 21M x 1,
# back to back by nq1.ts, alternating; the rebuilt passes (one / scan / merge) carry the patches.
# Bundle (clean worktree of the commit in out/g5/COMMIT; carry .device, out/g5):
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/g5/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g5/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g5}; mkdir -p $OUT
B=${B:-out/g5}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
V="warm;d;ld:patch=ldsel;ms:mpatch=msel;both:patch=ldsel,mpatch=msel;d2;ld2:patch=ldsel;ms2:mpatch=msel;both2:patch=ldsel,mpatch=msel;d4:nq=4;both4:nq=4,patch=ldsel,mpatch=msel;d3;both3:patch=ldsel,mpatch=msel"
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m $?
V="warm;d;both:patch=ldsel,mpatch=msel;d2;both2:patch=ldsel,mpatch=msel"
timeout 120 node $B/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/nq1-21m.jsonl 2>> $OUT/logs.txt; el nq1-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-220
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-175
grep -h "rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

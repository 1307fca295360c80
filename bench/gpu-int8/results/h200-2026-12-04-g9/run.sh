# Lead's call "g9" (2026-12-04, third session): int8_gemv at one query with workgroups of 512 / 1024
# invocations (patch wg512 / wg1024: fewer lists to merge at the same occupancy), at 264 / 132
# workgroups (one wave if 2 / 1 fit an SM) and at 528, against the default (256 x 528), 1M rows,
# back to back by nq1.ts, alternating; the rebuilt passes (one / scan / merge) carry the patch.
# Bundle (clean worktree of the commit in out/g9/COMMIT; carry .device, out/g9):
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/g9/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g9/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g9}; mkdir -p $OUT
B=${B:-out/g9}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
V="warm;d;w512:patch=wg512,gt=264;w512b:patch=wg512;w1k:patch=wg1024,gt=132;w1kb:patch=wg1024,gt=264;d2;w512c:patch=wg512,gt=264;w1kc:patch=wg1024,gt=132;d3"
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-220
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-150
grep -h "rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

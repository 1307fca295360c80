# Lead's call "g10" (2026-12-04, third session): the few-query defaults with Dawn's
# disable_robustness (the index's `disableRobustness` option: no clamps on indexed accesses)
# against without, int8 at 1-4 queries (1M) and 1 (21M), f16 / f32 at one query (1M), alternating
# processes, back to back by nq1.ts.
# Bundle (clean worktree of the commit in out/g10/COMMIT; carry .device, out/g10):
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/g10/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g10/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g10}; mkdir -p $OUT
B=${B:-out/g10}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
V="warm;d;n2:nq=2;n4:nq=4;d2"
for r in 1 2; do
  timeout 60 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/rob$r.jsonl 2>> $OUT/logs.txt; el "robust-$r" $?
  echo "== norob $r" >> $OUT/logs.txt
  timeout 60 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" --toggles disable_robustness > $OUT/norob$r.jsonl 2>> $OUT/logs.txt; el "norob-$r" $?
done
timeout 60 node $B/nq1.mjs --n 1000000 --ceil 0 --precisions f16,f32 --reps 40 --wall 0 --variants "warm;d" > $OUT/float-rob.jsonl 2>> $OUT/logs.txt; el float-rob $?
echo "== norob float" >> $OUT/logs.txt
timeout 60 node $B/nq1.mjs --n 1000000 --ceil 0 --precisions f16,f32 --reps 40 --wall 0 --variants "warm;d" --toggles disable_robustness > $OUT/float-norob.jsonl 2>> $OUT/logs.txt; el float-norob $?
timeout 90 node $B/nq1.mjs --n 21015324 --ceil 0 --precisions int8 --reps 10 --wall 0 --variants "warm;d" > $OUT/21m-rob.jsonl 2>> $OUT/logs.txt; el 21m-rob $?
echo "== norob 21m" >> $OUT/logs.txt
timeout 90 node $B/nq1.mjs --n 21015324 --ceil 0 --precisions int8 --reps 10 --wall 0 --variants "warm;d" --toggles disable_robustness > $OUT/21m-norob.jsonl 2>> $OUT/logs.txt; el 21m-norob $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-200
grep -h -E '^(int8|f16|f32) |^== ' $OUT/logs.txt | cut -c1-150
grep -h "rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

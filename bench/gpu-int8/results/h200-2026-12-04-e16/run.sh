# gpu-int8 call e16 (2026-12-04, second session): with merge_one starting from the shared bound,
# fewer merge levels at one / four queries: one level (m1fan=1024), 64 lists a workgroup (two
# levels of 9 / 1), 16, against the default 32; 1M and 21M rows.
# Bundle (carry .device, out/e16), from a clean worktree of the commit in out/e16/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e16/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e16/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e16}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e16/COMMIT)" >> $INFO
V="warm;d;f1k:m1fan=1024;f64:m1fan=64;f16:m1fan=16;d2;f1kb:m1fan=1024;f64b:m1fan=64;n4:nq=4;n4f1k:nq=4,m1fan=1024;n4f64:nq=4,m1fan=64;d3"
timeout 150 node out/e16/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;d;f1k:m1fan=1024;f64:m1fan=64;f256:m1fan=256;d2;f1kb:m1fan=1024"
timeout 150 node out/e16/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | cut -c1-200 | head; true

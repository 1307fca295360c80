# gpu-int8 call e10 (2026-12-04, second session): does the size of int8_gemv's loop matter? 64 /
# 256 / 1024 steps of straight-line code at each check, never run (patch=bulk64 / 256 / 1024), in
# the one-query kernel without shared bounds, and in the 4-query kernel; 1M rows.
# Bundle (carry .device, out/e10), from a clean worktree of the commit in out/e10/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e10/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e10/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e10}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e10/COMMIT)" >> $INFO
V="warm;d;b64:patch=bulk64;b256:patch=bulk256;b1k:patch=bulk1024;d2;b64b:patch=bulk64;b256b:patch=bulk256;b1kb:patch=bulk1024;n4:nq=4;n4b256:nq=4,patch=bulk256;n4b1k:nq=4,patch=bulk1024;d3"
timeout 150 node out/e10/nq1.mjs --n 1000000 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

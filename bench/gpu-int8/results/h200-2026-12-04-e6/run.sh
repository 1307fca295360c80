# gpu-int8 call e6 (2026-12-04, second session): int8_gemv's shared bounds without lockstep
# contention (5744170: buckets and bound words on lines of their own, publish only above the known
# bound, the bound word read every shareEvery-th check staggered by segment), for one query
# (shareOne=1) at shareEvery 1 / 2 / 4 / 8 / 16 against none (the default, shareOne 0), the code
# never run (patch), and 2 / 4 queries; 1M and 21M. GPU ms unquantised; read floor of the call.
# Bundle (carry .device, out/e6), from a clean worktree of the commit in out/e6/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e6/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e6/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e6}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e6/COMMIT)" >> $INFO
V="warm;d;on:shareOne=1;e1:shareOne=1,shareEvery=1;e2:shareOne=1,shareEvery=2;e8:shareOne=1,shareEvery=8;e16:shareOne=1,shareEvery=16;a:shareOne=1,patch=nopublish+noapply+nowordread;nf:shareOne=1,patch=nofold;d2;on2:shareOne=1;e8b:shareOne=1,shareEvery=8;n2:nq=2;n2e1:nq=2,shareEvery=1;n2s0:nq=2,share=0;n4:nq=4;n4e1:nq=4,shareEvery=1;n4s0:nq=4,share=0;d3;on3:shareOne=1"
timeout 150 node out/e6/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;d;on:shareOne=1;e8:shareOne=1,shareEvery=8;d2;on2:shareOne=1;n4:nq=4;n4s0:nq=4,share=0"
timeout 150 node out/e6/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-400
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

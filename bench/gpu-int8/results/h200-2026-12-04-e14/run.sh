# gpu-int8 call e14 (2026-12-04, second session): int8_gemv's shared bounds with no branch on the
# lane after the check's last barrier (the commit in COMMIT): one query on (shareOne=1, reads
# every 1 / 2 / 4 checks, 4 / 16 buckets) against off (the default), 2 / 4 queries on against off
# (share=0); 1M and 21M rows.
# Bundle (carry .device, out/e14), from a clean worktree of the commit in out/e14/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e14/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e14/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e14}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e14/COMMIT)" >> $INFO
V="warm;d;on:shareOne=1;on2:shareOne=1,shareEvery=2;on4:shareOne=1,shareEvery=4;s16:shareOne=1,share=16;s4:shareOne=1,share=4;d2;onb:shareOne=1;n2:nq=2;n2s0:nq=2,share=0;n4:nq=4;n4s0:nq=4,share=0;d3;onc:shareOne=1"
timeout 150 node out/e14/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;d;on:shareOne=1;d2;onb:shareOne=1;n4:nq=4;n4s0:nq=4,share=0"
timeout 150 node out/e14/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | cut -c1-200 | head; true

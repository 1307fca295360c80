# gpu-int8 call e9 (2026-12-04, second session): one query with shared bounds (shareOne=1), the
# bound reaching the lanes through the check's workgroupUniformLoad (patch ub1+ub2+ub3+ub4: a
# uniform value) against the per-lane atomicLoad (on) and no bounds (d); 1M rows.
# Bundle (carry .device, out/e9), from a clean worktree of the commit in out/e9/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e9/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e9/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e9}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e9/COMMIT)" >> $INFO
V="warm;d;on:shareOne=1;ub:shareOne=1,patch=ub1+ub2+ub3+ub4;d2;on2:shareOne=1;ub2:shareOne=1,patch=ub1+ub2+ub3+ub4;d3"
timeout 150 node out/e9/nq1.mjs --n 1000000 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

# gpu-int8 call e8 (2026-12-04, second session): after e7 (a storage atomic never run: no cost),
# a storage atomic at arrayLength never run (deadlen), and one lane's storage atomicLoad run at
# every check (liveload; livelen at arrayLength), at 1 query without shared bounds; 1M rows.
# Bundle (carry .device, out/e8), from a clean worktree of the commit in out/e8/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e8/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e8/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e8}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e8/COMMIT)" >> $INFO
V="warm;d;dn:patch=deadlen;ll:patch=liveload;ln:patch=livelen;d2;dn2:patch=deadlen;ll2:patch=liveload;ln2:patch=livelen;on:shareOne=1;d3"
timeout 150 node out/e8/nq1.mjs --n 1000000 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

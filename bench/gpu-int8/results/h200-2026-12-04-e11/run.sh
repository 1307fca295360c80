# gpu-int8 call e11 (2026-12-04, second session): the shared bounds' code at one query pulled
# apart once more: a storage atomicLoad at the end of each check without bounds (endlen / endcnt),
# and shareOne=1 with the word read or the publish deleted (noword / nopub / both); 1M rows.
# Bundle (carry .device, out/e11), from a clean worktree of the commit in out/e11/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e11/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e11/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e11}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e11/COMMIT)" >> $INFO
V="warm;d;el:patch=endlen;ec:patch=endcnt;on:shareOne=1;nw:shareOne=1,patch=noword;np:shareOne=1,patch=nopub;nwp:shareOne=1,patch=noword+nopub;d2;el2:patch=endlen;nwp2:shareOne=1,patch=noword+nopub;on2:shareOne=1"
timeout 150 node out/e11/nq1.mjs --n 1000000 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

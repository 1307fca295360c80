# gpu-int8 call e7 (2026-12-04, second session): does any storage atomic in int8_gemv's loop slow
# it? One atomicAdd / atomicLoad on `out` at each check behind a condition never true
# (patch=deadatomic / deadload) in the kernel without shared bounds, at 1 query (sgs) and at 4
# queries (share=0), against the unpatched kernel; 1M rows. GPU ms unquantised.
# Bundle (carry .device, out/e7), from a clean worktree of the commit in out/e7/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e7/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e7/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e7}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e7/COMMIT)" >> $INFO
V="warm;d;da:patch=deadatomic;dl:patch=deadload;d2;da2:patch=deadatomic;dl2:patch=deadload;n4:nq=4,share=0;n4da:nq=4,share=0,patch=deadatomic;n4dl:nq=4,share=0,patch=deadload;n4sh:nq=4;n4b:nq=4,share=0;n4dab:nq=4,share=0,patch=deadatomic"
timeout 150 node out/e7/nq1.mjs --n 1000000 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

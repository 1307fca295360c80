# gpu-int8 run 19: PREPARED, NOT RUN (written 2026-12-04 ~02:30 UTC, when the session's device time
# was spent; a lavapipe dry run at N = 5000 checked the script). What run 18 left open, 1M x 768,
# k = 10 (k' = 40), torch fp32 in the same call:
#  1. issue 4's int8 nq = 16 by throughput with targetWorkgroupsTiny 1024 (run 18: GPU 0.670-0.699 ms
#     = 2.38-2.48x, in flight never timed): 1 / 2 / 4 in flight, twice, against 2048 (twt=0);
#  2. targetWorkgroupsTiny at 8 / 12 queries (measured only at 16);
#  3. the tensor scorer at 5-7 queries (minBatch 5) against the built-ins (flat_fused for int8);
#  4. the 16-query block at k' 24 / 32 (depth), where it may still beat the 32-query block
#     (faster at 20, slower at 40).
# A warm-up variant first: each call's first variants run while the clocks rise (run 18).
# Bundle (carry .device, out/r19):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/r19/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run19/run.sh
set -o pipefail
N=${N:-1000000}
OUT=${OUT:-/tmp/run19}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat bench/gpu-int8/results/h200-2026-12-04-run19/COMMIT 2>/dev/null)" >> $INFO
timeout 30 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 5,6,7,8,12,16 --k 10 --reps 20 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
V="warm:ts=0,conc=2,nq=16"
V="$V;d:nq=5/6/7/8/12/16;old:twt=0,nq=8/12/16;m5:tmin=5,nq=5/6/7;m5old:tmin=5,twt=0,nq=5/6/7"
V="$V;k24:depth=24,tb16k=24,nq=16;k24o:depth=24,tb16=0,nq=16;k32:depth=32,tb16k=32,nq=16;k32o:depth=32,tb16=0,nq=16"
V="$V;d1:ts=0,nq=16;dc2:ts=0,conc=2,nq=16;dc4:ts=0,conc=4,nq=16;oc2:twt=0,ts=0,conc=2,nq=16;oc4:twt=0,ts=0,conc=4,nq=16"
V="$V;dc2b:ts=0,conc=2,nq=16;dc4b:ts=0,conc=4,nq=16;d2:nq=16"
timeout 150 node out/r19/run.mjs --n $N --variants "$V" --min-ms 300 --max-reps 300 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
grep -h . $OUT/torch.jsonl | cut -c1-150
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40

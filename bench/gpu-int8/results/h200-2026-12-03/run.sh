# bench/gpu-int8 on the device machine, one call (run from the repo root after `source .device/setup.sh`).
# Needs the bundle out/gpu-int8/run.mjs (see run.ts). Outputs under $OUT (at most 8 files come back).
# N1 / N21 / TORCH override the sizes and the torch script for a dry run on lavapipe.
set -o pipefail
B=out/gpu-int8/run.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p)" >> $OUT/info.txt

# 1M: torch fp32/fp16, then the int8 index: the read ceiling (nq = 1 floor), defaults at every nq,
# the kernels before int8_gemv, its knobs at nq = 1, int8_gemv for whole batches (blocks of 16)
# against the tensor scorer, re-rank sub-batches and depths.
timeout 90 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
V1="default"
V1="$V1;builtin:tensor=0,nq=16/64/256/1024"
V1="$V1;old:gemv=0,tensor=0,nq=1/4"
V1="$V1;q8:qbits=8,nq=1/4"
V1="$V1;gt1k:gt=1024,nq=1;gt2k:gt=2048,nq=1;gt4k:gt=4096,nq=1;l32:lanes=32,nq=1;l8:lanes=8,nq=1;uw1:uw=1,nq=1"
V1="$V1;gb:maxb=4096,tensor=0,nq=4/8/16/64/256/1024;gb8:maxb=4096,qbits=8,tensor=0,nq=16/64/256/1024"
V1="$V1;s0:sub=0,nq=256/1024;s256:sub=256,nq=1024;k16:depth=16,nq=1024;k20:depth=20,nq=1024;k26:depth=26,nq=1024"
timeout 150 node $B --n $N1 --ceilings 1 --variants "$V1" --min-ms 200 --max-reps 8 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"

# 21M (Search-R1's size): torch with --chunk 4194304, the int8 index (re-rank regenerates rows).
if [ $((SECONDS-S0)) -lt 150 ]; then
  timeout 90 python3 $T --n $N21 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
  timeout 100 node $B --n $N21 --host-rows regen --variants "default;builtin:tensor=0,nq=16/64;old:gemv=0,tensor=0,nq=1;gb:maxb=4096,tensor=0,nq=16/64/256;gt2k:gt=2048,nq=1" --min-ms 0 --max-reps 3 > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; log "int8 21M rc=$?"
fi

# Dawn's disable_robustness (no bounds clamps), 1M, GPU times only (rows regenerated for the re-rank).
if [ $((SECONDS-S0)) -lt 250 ]; then
  timeout 50 node $B --n $N1 --host-rows regen --toggles disable_robustness --variants "default:nq=1/16/64/1024;gb:maxb=4096,tensor=0,nq=16/64/1024" --min-ms 100 --max-reps 5 > $OUT/int8-1m-norobust.jsonl 2>> $OUT/logs.txt; log "norobust rc=$?"
fi
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | tail -80
log "done"

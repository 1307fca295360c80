# gpu-int8 run 6 (one call on nvidia-h200): the two scripts prepared last session, trimmed into one
# call, plus the host latency floor of Dawn's binding (latency.ts) for the wall-time work:
#   1. next-merge: merge_one (kernelTuning.mergeOne) bit-equal to merge_lists on the device
#      (same.ts, 1M and 21M), and GPU ms of the nq = 1 search with / without it (gemv.ts);
#   2. next-readback: searchTuning.readbackSlots 2 / 1 and cacheBinds 1 / 0 by wall at 1M nq 1..1024
#      (run.ts, timestamps off, A B A B pairs);
#   3. latency.ts (map round trip, submit costs, no index) and the index at N = 8192 (GPU ~idle):
#      the host part of a search's wall time.
# torch fp32 in the same call (same N, d = 768, nq, k = 10; --chunk 4194304 at 21M).
# Bundles (here; carry .device, out/gemv, out/gpu-int8):
#   npx esbuild bench/gpu-int8/results/h200-2026-12-03-gemv/gemv.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gemv/gemv.mjs
#   (same for bench/gpu-int8/results/next-merge/same.ts -> out/gemv/same.mjs, bench/gpu-int8/run.ts ->
#   out/gpu-int8/run.mjs, bench/gpu-int8/latency.ts -> out/gpu-int8/latency.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run6/run.sh
set -o pipefail
OUT=${OUT:-/tmp/run6}
mkdir -p $OUT
G=out/gemv/gemv.mjs
S=out/gemv/same.mjs
B=out/gpu-int8/run.mjs
L=out/gpu-int8/latency.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
NS=${NS:-8192}
CEIL=${CEIL:-1}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version)" >> $OUT/info.txt
timeout 30 node $L --reps 300 > $OUT/latency.jsonl 2>> $OUT/logs.txt; log "latency rc=$?"
timeout 45 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
timeout 45 node $S --n $N1 > $OUT/same.jsonl 2>> $OUT/logs.txt; log "same 1M rc=$?"
V="default;m1:m1=1;m1f16:m1=1,m1fan=16;fan512:fan=512;kp10:kp=10;m1kp10:m1=1,kp=10;m1nq24:m1=1,nq=2/4;nq24:nq=2/4;default2;m1b:m1=1"
timeout 70 node $G --n $N1 --ceil $CEIL --recall 1 --host-rows memory --reps 50 --variants "$V" > $OUT/gemv-1m.jsonl 2>> $OUT/logs.txt; log "gemv 1M rc=$?"
V="rb2:rb=2,ts=0;rb1:rb=1,ts=0;rb2b:rb=2,ts=0;rb1b:rb=1,ts=0"
V="$V;bgc0:bgc=0,ts=0,nq=1/16/64;bgc1:bgc=1,ts=0,nq=1/16/64;bgc0b:bgc=0,ts=0,nq=1/16/64;bgc1b:bgc=1,ts=0,nq=1/16/64"
V="$V;m1w:m1=1,ts=0,nq=1/4;ts"
timeout 100 node $B --n $N1 --variants "$V" --min-ms 300 --max-reps 30 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
timeout 30 node $B --n $NS --nq 1,16,64 --variants "small:ts=0;smallts" --min-ms 300 --max-reps 300 >> $OUT/latency.jsonl 2>> $OUT/logs.txt; log "int8 $NS rc=$?"
timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
timeout 50 node $S --n $N21 >> $OUT/same.jsonl 2>> $OUT/logs.txt; log "same 21M rc=$?"
timeout 60 node $G --n $N21 --ceil $CEIL --reps 12 --variants "default;m1:m1=1;m1all:m1=1,m1fan=4096;m1f128:m1=1,m1fan=128;default2;m1b:m1=1" > $OUT/gemv-21m.jsonl 2>> $OUT/logs.txt; log "gemv 21M rc=$?"
grep -h . $OUT/torch.jsonl | cut -c1-160
grep -h '"differ":[1-9]' $OUT/same.jsonl; echo "same: $(grep -c . $OUT/same.jsonl) lines, $(grep -c '"differ":0' $OUT/same.jsonl) identical"
grep -h '"latency"' $OUT/latency.jsonl
grep -h -v '^{' $OUT/int8-1m.jsonl $OUT/latency.jsonl | grep -v '^$' | tail -45
grep -h -A30 "s\] done" $OUT/logs.txt | grep -v "^\[" | cut -c1-170
log "done"

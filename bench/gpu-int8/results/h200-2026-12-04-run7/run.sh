# gpu-int8 run 7 (one call on nvidia-h200): the int8 index by wall after run 6's changes (mergeOne on,
# fan 16 at 1M), one search at a time (median latency) and C searches in flight (throughput, conc=C,
# as torch's loop keeps its searches queued), with the shard's host profile (shard_prep / encode /
# submit / map / unpack); readback ring off under concurrency (rb1); merge_one off; an int8_gemv
# sweep at 1M nq = 1 (workgroups, merge fan) now that the merge is cheaper; 21M nq 1 / 16 / 64.
# torch fp32 in the same call (same N, d = 768, nq, k = 10; --chunk 4194304 at 21M).
# Bundles (here; carry .device, out/gemv, out/gpu-int8):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/gpu-int8/run.mjs
#   (same for bench/gpu-int8/latency.ts -> out/gpu-int8/latency.mjs and
#   bench/gpu-int8/results/h200-2026-12-03-gemv/gemv.ts -> out/gemv/gemv.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run7/run.sh
set -o pipefail
OUT=${OUT:-/tmp/run7}
mkdir -p $OUT
G=out/gemv/gemv.mjs
B=out/gpu-int8/run.mjs
L=out/gpu-int8/latency.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version); commit $(cat bench/gpu-int8/results/h200-2026-12-04-run7/COMMIT 2>/dev/null)" >> $OUT/info.txt
timeout 30 node $L --reps 300 > $OUT/latency.jsonl 2>> $OUT/logs.txt; log "latency rc=$?"
timeout 45 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 20 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
V="warm:ts=0;d1:ts=0;c2:ts=0,conc=2;c4:ts=0,conc=4;d1b:ts=0;c2b:ts=0,conc=2;rb1c2:rb=1,ts=0,conc=2,nq=1/16/64;m0:m1=0,ts=0,nq=1/4;m0c2:m1=0,ts=0,conc=2,nq=1;ts"
timeout 120 node $B --n $N1 --variants "$V" --min-ms 400 --max-reps 400 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
V="default;gt256:gt=256;gt384:gt=384;gt768:gt=768;gt1024:gt=1024;f8:m1fan=8;f32:m1fan=32;m1all:m1fan=512;m0:m1=0;sp256:sp=256;default2"
timeout 60 node $G --n $N1 --ceil 1 --reps 50 --wall 0 --variants "$V" > $OUT/gemv-1m.jsonl 2>> $OUT/logs.txt; log "gemv 1M rc=$?"
timeout 60 python3 $T --n $N21 --d 768 --nq 1,16,64 --k 10 --reps 10 --chunk 4194304 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
timeout 90 node $B --n $N21 --nq 1,16,64 --host-rows regen --variants "warm:ts=0,nq=1;d1:ts=0;c2:ts=0,conc=2;ts" --min-ms 300 --max-reps 60 > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; log "int8 21M rc=$?"
grep -h . $OUT/torch.jsonl | cut -c1-150
grep -h '"latency"' $OUT/latency.jsonl | cut -c1-120
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | tail -60
grep -h -A16 "s\] done\|^[0-9.]* done" $OUT/logs.txt | grep -v "^\[" | cut -c1-150 | tail -14
log "done"

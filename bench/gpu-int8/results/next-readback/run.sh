# bench/gpu-int8 next-readback: RAN 2026-12-04 as part of gpu-int8 run 6 (trimmed into
# bench/gpu-int8/results/h200-2026-12-04-run6/run.sh with next-merge; output there; BENCHMARKS
# gpu-int8 run 6). Prepared 2026-12-03 on lavapipe. What it measures: the shard readback ring (searchTuning.readbackSlots 2:
# the next int8 sub-batch is queued while the one before is read back; 1: the old single buffer,
# next sub-batch queued after the readback) and the cached bind groups / skipped equal uniform writes
# in the submit path (searchTuning.cacheBinds), by wall time (timestamps off: ts=0, so each search
# reads back one buffer) and by the host profile (submit, gpu_wait) at 1M x 768, nq 1..1024, k = 10;
# one timestamped variant for GPU ms. Each on/off pair is repeated (A B A B) to show the spread.
# Predictions (BENCHMARKS gpu-int8 runs 4-5): rb2 saves 2-3 ms of the 24 ms wall at nq = 1024 (the
# ~1.3 ms GPU idle per sub-batch boundary); bgc1 trims part of the 0.38-0.48 ms submit at nq = 1.
# torch fp32 in the same call. Bundle first (here, then carry out/gpu-int8 and .device):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/gpu-int8/run.mjs
# run: source .device/setup.sh && bash bench/gpu-int8/results/next-readback/run.sh
# (carry [".device", "out/gpu-int8"]). N1 / TORCH override for a dry run.
set -o pipefail
OUT=${OUT:-/tmp/next-readback}
mkdir -p $OUT
B=out/gpu-int8/run.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version)" >> $OUT/info.txt
timeout 60 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
# Wall A/B: rb (readback ring) and bgc (bind group cache), timestamps off; s0 = one batch (no
# sub-batches) at 1024 for reference; 'ts' = the defaults with GPU timestamps (GPU ms).
V="rb2:rb=2,ts=0;rb1:rb=1,ts=0;rb2b:rb=2,ts=0;rb1b:rb=1,ts=0"
V="$V;bgc0:bgc=0,ts=0,nq=1/16/64;bgc1:bgc=1,ts=0,nq=1/16/64;bgc0b:bgc=0,ts=0,nq=1/16/64;bgc1b:bgc=1,ts=0,nq=1/16/64"
V="$V;old:rb=1,bgc=0,ts=0;s0:sub=0,ts=0,nq=1024;sub256:sub=256,ts=0,nq=1024;ts"
timeout 150 node $B --n $N1 --variants "$V" --min-ms 300 --max-reps 30 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^' | tail -60
grep -h . $OUT/torch*.jsonl | cut -c1-160
log "done"

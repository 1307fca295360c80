# merge_one (kernelTuning.mergeOne) against merge_lists at nq = 1. RAN 2026-12-04 (gpu-int8 run 6, trimmed
# into bench/gpu-int8/results/h200-2026-12-04-run6/run.sh with next-readback; output there): same.ts 48
# of 48 cases identical at 1M and 21M; GPU ms 1M 0.342 -> 0.335 (one level) / 0.316 (fan 16), 21M
# 4.25 -> 4.22; mergeOne is on by default since. Prepared 2026-12-03 ~20:35 UTC, no device time left that session; checked only as a dry run on lavapipe
# with N1=20000 N21=60000 CEIL=0 TORCH=<a stub> R1=3 R21=2). One device call on nvidia-h200:
#   - exactness: the int8 shard's lists with the knob on (auto / one level / 16 lists a workgroup)
#     = off, bit for bit, at 1M and 21M, nq 1 / 2 / 4, k' 10 / 40 (same.ts; exit 1 on a difference);
#   - GPU ms (timestamps around the search pass) and int8_gemv alone at 1M and 21M, nq = 1, k' = 40:
#     default (merge_lists: 512 lists -> 16 -> 1 at 1M, 4096 -> 128 -> 4 -> 1 at 21M, fan 32) vs
#     m1 (merge_one: one level at 1M, two of 64 lists a workgroup at 21M) and its fan / buffer
#     variants, merge_lists with fan 512 (one level of the old kernel), each default repeated;
#   - torch fp32 / fp16 at nq = 1 in the same call (same N, d = 768, k = 10).
# Bundles (carry .device, out/gemv):
#   npx esbuild bench/gpu-int8/results/h200-2026-12-03-gemv/gemv.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gemv/gemv.mjs
#   npx esbuild bench/gpu-int8/results/next-merge/same.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gemv/same.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/next-merge/run.sh
# Read: merge share = gpu_ms - kernel_ms per variant; the target is gpu_ms <= 1.25 x the floor
# (int8_read_floor_ms of the ceilings line; 0.176 ms at 1M in gemv-3).
set -o pipefail
B=out/gemv/gemv.mjs
S=out/gemv/same.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
CEIL=${CEIL:-1}
R1=${R1:-50}
R21=${R21:-12}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 60 python3 $T --n $N1 --d 768 --nq 1 --k 10 --reps 20 > $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
timeout 60 node $S --n $N1 > $OUT/same-1m.jsonl 2>> $OUT/logs.txt; log "same 1M rc=$?"
V="default;m1:m1=1;m1f16:m1=1,m1fan=16;m1f32:m1=1,m1fan=32;m1s512:m1=1,m1slots=512;m1s2048:m1=1,m1slots=2048;fan512:fan=512;kp10:kp=10;m1kp10:m1=1,kp=10;m1nq24:m1=1,nq=2/4;nq24:nq=2/4;default2;m1b:m1=1"
timeout 100 node $B --n $N1 --ceil $CEIL --recall 1 --host-rows memory --reps $R1 --variants "$V" > $OUT/gemv-1m.jsonl 2>> $OUT/logs.txt; log "gemv 1M rc=$?"
timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
timeout 80 node $S --n $N21 > $OUT/same-21m.jsonl 2>> $OUT/logs.txt; log "same 21M rc=$?"
timeout 80 node $B --n $N21 --ceil $CEIL --reps $R21 --variants "default;m1:m1=1;m1all:m1=1,m1fan=4096;m1f32:m1=1,m1fan=32;m1f128:m1=1,m1fan=128;fan64:fan=64;default2;m1b:m1=1" > $OUT/gemv-21m.jsonl 2>> $OUT/logs.txt; log "gemv 21M rc=$?"
grep -h . $OUT/torch.jsonl | cut -c1-200
grep -h '"differ":[1-9]' $OUT/same-*.jsonl; echo "same: $(cat $OUT/same-*.jsonl | wc -l) lines, $(grep -h '"differ":0' $OUT/same-*.jsonl | wc -l) identical"
grep -h ceilings $OUT/*.jsonl
grep -h -A30 "s\] done" $OUT/logs.txt | grep -v "^\[" | cut -c1-190
log "done"

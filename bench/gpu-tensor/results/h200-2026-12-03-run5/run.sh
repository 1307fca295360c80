# bench/gpu-tensor run 5 (one device call): the hook's selection ('row' / 'mask'), prefetch, row
# tiles, 32-dim chunks and k' = 26 inside GpuFlatIndex at 1M (torch fp16 / fp32 on the same rows in
# the same call), then the index at 21M (bench/gpu-int8/run.ts through index-21m.ts) with the old and
# the new hook beside torch at 21M. Bundles: out/tensor-r5/bench.mjs (bench.ts), index-21m.mjs.
set -o pipefail
B=out/tensor-r5
T=.device/torch_flat_baseline.py
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version)" >> $OUT/info.txt
M="pre@2048/r2,pre@1024/r2,pre@2048/r2/m,pre@1024/r2/m,pre@2048/r2/p,pre@2048/r2/m/p,pre@1024/r2/m/p"
M="$M,pre@2048/r4/m,pre@2048/r4/m/p,pre@2048/r2/m/p/c32,pre@2048/r2/m/p/k26,pre@2048/r2,pre@2048/r2/m/p"
timeout 170 node $B/bench.mjs --n 1000000 --d 768 --nq 16,64,256,1024 --k 10 --kp 40 --stages 64p4wgu \
  --layouts mid --dot4 0 --copy 0 --torch $T --flat 1 --flat-modes "$M" --out $OUT > $OUT/bench.log 2>&1
log "bench 1M rc=$?"
if [ $((SECONDS-S0)) -lt 190 ]; then
  timeout 50 python3 $T --n 21015324 --d 768 --nq 64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt
  log "torch 21M rc=$?"
  TENSOR_TUNING='{"select":"row","prefetch":false}' timeout 45 node $B/index-21m.mjs --n 21015324 --nq 64,256,1024 \
    --host-rows regen --variants default --min-ms 0 --max-reps 3 > $OUT/index21m-row.jsonl 2>> $OUT/logs.txt
  log "index 21M row rc=$?"
  TENSOR_TUNING='{"select":"mask","prefetch":true}' timeout 45 node $B/index-21m.mjs --n 21015324 --nq 64,256,1024 \
    --host-rows regen --variants default --min-ms 0 --max-reps 3 > $OUT/index21m-mask.jsonl 2>> $OUT/logs.txt
  log "index 21M mask+prefetch rc=$?"
fi
sed -n '/^in-index/,$p' $OUT/bench.log | head -70
grep -h '^{' $OUT/torch21m.jsonl $OUT/index21m-*.jsonl 2>/dev/null | cut -c1-330
log "done"

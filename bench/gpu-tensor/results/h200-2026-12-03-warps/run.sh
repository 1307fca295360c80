# bench/gpu-tensor warps run (one device call): does Dawn accept subgroup-matrix offsets from
# @builtin(subgroup_id) (warps-probe), then the hook with 1 / 2 / 4 warps a workgroup inside
# GpuFlatIndex at 1M x 768 (k = 10, k' = 40) beside torch fp16 / fp32 on the same rows (bench.ts
# runs .device/torch_flat_baseline.py --nq 64,256,1024 --k 10 on them). Bundles: out/tensor-w/*.mjs.
set -o pipefail
B=out/tensor-w
T=.device/torch_flat_baseline.py
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 40 node $B/warps-probe.mjs > $OUT/probe.jsonl 2> $OUT/logs.txt
log "probe rc=$?"
cut -c1-700 $OUT/probe.jsonl
if grep -q '"sidAccepted":true' $OUT/probe.jsonl; then
  M="pre@2048/m/p,pre@2048/m/p/w2,pre@1024/m/p/w2,pre@2048/m/p/w4,pre@512/m/p/w4,pre@2048/m/p"
  timeout 150 node $B/bench.mjs --n 1000000 --d 768 --nq 64,256,1024 --k 10 --kp 40 --stages 64p4wgu \
    --layouts mid --dot4 0 --copy 0 --torch $T --flat 1 --flat-modes "$M" --out $OUT > $OUT/bench.log 2>&1
  log "bench 1M rc=$?"
  grep '"what":"torch"' $OUT/bench.log | cut -c1-200
  grep -E '"what":"flat-(error|tuning)"' $OUT/bench.log | cut -c1-600
  sed -n '/^in-index/,$p' $OUT/bench.log | head -40
fi
log "done"

# bench/gpu-tensor run 6 (one device call): several warps a workgroup with each warp's matrix code in
# its own subgroup_id branch (constant offsets, tensorTuning.warpBranch) against one warp and the
# run-"warps" form (sid-derived offsets), in GpuFlatIndex at 1M x 768 (k = 10, k' = 40), torch fp16 /
# fp32 on the same rows in the same call (bench.ts runs .device/torch_flat_baseline.py, 20 reps);
# the standalone staged kernel (TensorInt8Flat's) with 'row' / 'mask' selection / mask + prefetch,
# keys and ids checked against the CPU int32 reference; then 21M: torch (--chunk 4194304) and the
# index with the defaults and with 2 branch warps. Bundles: out/tensor-r6/*.mjs.
set -o pipefail
B=out/tensor-r6
T=.device/torch_flat_baseline.py
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
M="pre@2048/m/p,pre@1024/m/p/w2/b,pre@2048/m/p/w2/b,pre@512/m/p/w4/b,pre@1024/m/p/w2,pre@2048/m/p"
timeout 180 node $B/bench.mjs --n 1000000 --d 768 --nq 16,64,256,1024 --k 10 --kp 40 --stages 64p4wgu,64p4wgum,64p4wgumf \
  --layouts mid,large --dot4 0 --copy 0 --torch $T --flat 1 --flat-modes "$M" --out $OUT > $OUT/bench.log 2>> $OUT/logs.txt
log "bench 1M rc=$?"
grep '"what":"torch"' $OUT/bench.log | cut -c1-200
grep -E '"what":"(flat-error|probe-stage|kernel)"' $OUT/bench.log | cut -c1-400
grep '"what":"int8"' $OUT/bench.log | python3 -c "import sys,json;[print({k:o.get(k) for k in ('kernel','nq','layout','ms','tops','exact','agree','recall')}) for o in map(json.loads,sys.stdin)]"
sed -n '/^in-index/,$p' $OUT/bench.log | head -40
timeout 45 python3 $T --n 21015324 --d 768 --nq 16,64,256,1024 --k 10 --reps 5 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
grep -h '^{' $OUT/torch21m.jsonl | cut -c1-200
for v in default w2b; do
  TT=''; [ $v = w2b ] && TT='{"warps":2,"warpBranch":true,"targetWorkgroups":1024,"targetWorkgroupsSmall":1024}'
  TENSOR_TUNING="$TT" timeout 45 node $B/index-21m.mjs --n 21015324 --nq 64,256,1024 --host-rows regen --variants default --min-ms 0 --max-reps 3 > $OUT/index21m-$v.jsonl 2>> $OUT/logs.txt; log "index 21M $v rc=$?"
  grep -h '^{' $OUT/index21m-$v.jsonl | python3 -c "import sys,json;[print({k:o.get(k) for k in ('n','nq','kprime','gpu_ms','wall_ms','rerank_ms','recall_at_10','reps')}, o.get('kernel','')[-40:]) for o in map(json.loads,sys.stdin)]"
done
log done

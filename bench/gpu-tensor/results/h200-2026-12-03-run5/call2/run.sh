# bench/gpu-tensor run 5, call 2: the new defaults (mask selection, prefetch, 64-row tiles from 512
# queries a shard batch, 2048 workgroups) in the int8 index at 21M through bench/gpu-int8/run.ts
# (index-21m.ts without TENSOR_TUNING: the defaults), torch fp16 / fp32 at 21M in the same call.
# (1M: call 1 timed every part of the defaults in one index.) Bundle: out/tensor-r5b/index-21m.mjs.
set -o pipefail
B=out/tensor-r5b
T=.device/torch_flat_baseline.py
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 30 python3 $T --n 21015324 --d 768 --nq 64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
timeout 30 node $B/index-21m.mjs --n 21015324 --nq 64,256,1024 --host-rows regen --variants default --min-ms 0 --max-reps 3 > $OUT/index21m.jsonl 2>> $OUT/logs.txt; log "index 21M rc=$?"
grep -h '^{' $OUT/torch21m.jsonl | cut -c1-200
grep -h '^{' $OUT/index21m.jsonl | python3 -c "import sys,json;[print({k:o[k] for k in ('n','nq','kprime','gpu_ms','wall_ms','rerank_ms','recall_at_10','reps')}, o['kernel'][-30:]) for o in map(json.loads,sys.stdin)]"
log done

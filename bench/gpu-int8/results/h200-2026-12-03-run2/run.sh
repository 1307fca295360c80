# bench/gpu-int8, H200 run 2 (one call): int8_gemv with the bitonic end merge against run 1's serial
# merge, workgroup counts and k' at nq = 1; re-rank overlap now that sub-batches really overlap.
# Same bundle and conventions as device.sh; torch in the same call.
set -o pipefail
B=out/gpu-int8/run.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 60 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
V="default"
V="$V;em0:em=0,nq=1/4;k10:depth=10,nq=1;k10em0:depth=10,em=0,nq=1"
V="$V;gt256:gt=256,nq=1;gt384:gt=384,nq=1;gt1k:gt=1024,nq=1;gt2k:gt=2048,nq=1;q8:qbits=8,nq=1;l8:lanes=8,nq=1"
V="$V;s0:sub=0,nq=256/1024;s256:sub=256,nq=1024;builtin:tensor=0,nq=256/1024;builtins0:tensor=0,sub=0,nq=256/1024"
timeout 90 node $B --n $N1 --ceilings 1 --variants "$V" --min-ms 200 --max-reps 8 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
if [ $((SECONDS-S0)) -lt 90 ]; then
  timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 5 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
  timeout 60 node $B --n $N21 --nq 1,1024 --host-rows regen --variants "default;em0:em=0,nq=1;gt256:gt=256,nq=1;s0:sub=0,nq=1024" --min-ms 0 --max-reps 3 > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; log "int8 21M rc=$?"
fi
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | tail -40
log "done"

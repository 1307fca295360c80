# int8_gemv run gemv-3 (one device call): runs gemv-1 / gemv-2 again without Dawn's timestamp
# quantisation (theirs came in 65.5 us steps), with the kernel before this work (commit c65ec1d:
# per-subgroup heaps, bundled from that commit as out/gemv/gemv-old.mjs) in the same call; read
# floor; torch fp32 / fp16 at nq = 1 in the same call (same N, d = 768, k = 10).
# Script: bench/gpu-int8/results/h200-2026-12-03-gemv/gemv.ts bundled as out/gemv/gemv.mjs.
# N1 / N21 / TORCH / CEIL / R1 / R21 override for a dry run on lavapipe.
set -o pipefail
B=out/gemv/gemv.mjs
BO=out/gemv/gemv-old.mjs
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
V="default;sp128:sp=128;sp256:sp=256;ci8:ci=8;ru1:ru=1;q8:qbits=8;gt256:gt=256;gt384:gt=384;gt1024:gt=1024;kp10:kp=10;nq24:nq=2/4;gemv0:gemv=0;default2"
timeout 90 node $B --n $N1 --ceil $CEIL --recall 1 --host-rows memory --reps $R1 --variants "$V" > $OUT/gemv-1m.jsonl 2>> $OUT/logs.txt; log "gemv 1M rc=$?"
timeout 40 node $BO --n $N1 --recall 1 --host-rows memory --reps $R1 --variants "old:nq=1/4;oldkp10:kp=10" > $OUT/old-1m.jsonl 2>> $OUT/logs.txt; log "old 1M rc=$?"
timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
timeout 70 node $B --n $N21 --ceil $CEIL --reps $R21 --variants "default;sp256:sp=256;ru1:ru=1;gt384:gt=384;nq24:nq=2/4;default2" > $OUT/gemv-21m.jsonl 2>> $OUT/logs.txt; log "gemv 21M rc=$?"
timeout 40 node $BO --n $N21 --reps $R21 --variants "old" > $OUT/old-21m.jsonl 2>> $OUT/logs.txt; log "old 21M rc=$?"
grep -h . $OUT/torch.jsonl | cut -c1-200
grep -h ceilings $OUT/*.jsonl
grep -h -A30 "s\] done" $OUT/logs.txt | grep -v "^\[" | cut -c1-190
log "done"

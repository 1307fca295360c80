# int8_gemv run gemv-2 (one device call): the defaults after run gemv-1 (sp 512 at k' = 40) and a
# sweep around them, with Dawn's timestamps unquantised (allow_unsafe_apis; run gemv-1's came in
# 65.5 us steps); read floor; torch fp32 / fp16 at nq = 1 in the same call (same N, d = 768, k = 10).
# Script: bench/gpu-int8/results/h200-2026-12-03-gemv/gemv.ts bundled as out/gemv/gemv.mjs.
# N1 / N21 / TORCH / CEIL / R1 / R21 override for a dry run on lavapipe.
set -o pipefail
B=out/gemv/gemv.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
CEIL=${CEIL:-1}
R1=${R1:-40}
R21=${R21:-10}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version)" >> $OUT/info.txt
timeout 60 python3 $T --n $N1 --d 768 --nq 1 --k 10 --reps 10 > $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
V="default;gemv0:gemv=0;sp128:sp=128;sp256:sp=256;sp1024:sp=1024;ci1:ci=1;ci8:ci=8;ru1:ru=1;ru3:ru=3;q8:qbits=8"
V="$V;gt256:gt=256;gt384:gt=384;gt768:gt=768;gt1024:gt=1024;gt2048:gt=2048;sp256gt1024:sp=256,gt=1024;sp256gt256:sp=256,gt=256"
V="$V;kp10:kp=10;nq24:nq=2/4;default2;default3"
timeout 100 node $B --n $N1 --ceil $CEIL --recall 1 --host-rows memory --reps $R1 --variants "$V" > $OUT/gemv-1m.jsonl 2>> $OUT/logs.txt; log "gemv 1M rc=$?"
timeout 40 node $B --n $N1 --toggles disable_robustness --host-rows memory --reps $R1 --variants "norobust:nq=1/4" >> $OUT/gemv-1m.jsonl 2>> $OUT/logs.txt; log "gemv 1M norobust rc=$?"
timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
V21="default;sp256:sp=256;sp1024:sp=1024;gt256:gt=256;gt384:gt=384;gt1024:gt=1024;ru1:ru=1;ru3:ru=3;nq24:nq=2/4;default2"
timeout 90 node $B --n $N21 --ceil $CEIL --reps $R21 --variants "$V21" > $OUT/gemv-21m.jsonl 2>> $OUT/logs.txt; log "gemv 21M rc=$?"
grep -h . $OUT/torch.jsonl | cut -c1-200
grep -h ceilings $OUT/gemv-*.jsonl
grep -h -A40 "s\] done" $OUT/logs.txt | grep -v "^\[" | cut -c1-150
log "done"

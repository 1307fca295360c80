# int8_gemv sweep at few queries (one device call): read floor, torch fp32 / fp16 at nq = 1 (same
# N, d = 768, k = 10), then gemv.ts (bundled as out/gemv/gemv.mjs) at 1M and 21M: GPU ms of the
# shard's search (int8_gemv + merges), int8_gemv alone, and the index's wall ms at nq = 1.
# N1 / N21 / TORCH / CEIL / R1 / R21 override for a dry run on lavapipe.
set -o pipefail
B=out/gemv/gemv.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
CEIL=${CEIL:-1}
R1=${R1:-30}
R21=${R21:-10}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version)" >> $OUT/info.txt
timeout 60 python3 $T --n $N1 --d 768 --nq 1 --k 10 --reps 10 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
V="default;gemv0:gemv=0;sp256:sp=256;sp512:sp=512;sp1024:sp=1024;sp4096:sp=4096;ci1:sp=512,ci=1;ru1:ru=1;ru4:ru=4;sp512ru4:sp=512,ru=4;qr0:qr=0"
V="$V;l8:lanes=8;l8ru1:lanes=8,ru=1;q8:qbits=8;gt256:gt=256;gt384:gt=384;gt1024:gt=1024;gt2048:gt=2048;sp512gt1024:sp=512,gt=1024"
V="$V;kp10:kp=10;sp512kp10:sp=512,kp=10;nq24:nq=2/4;sp512nq4:sp=512,nq=2/4;default2"
timeout 150 node $B --n $N1 --ceil $CEIL --recall 1 --host-rows memory --reps $R1 --variants "$V" > $OUT/gemv-1m.jsonl 2>> $OUT/logs.txt; log "gemv 1M rc=$?"
if [ $((SECONDS-S0)) -lt 170 ]; then
  timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
  V21="default;sp512:sp=512;sp1024:sp=1024;ru4:ru=4;ru1:ru=1;gt256:gt=256;gt1024:gt=1024;sp512gt1024:sp=512,gt=1024;nq4:nq=4;default2"
  timeout 90 node $B --n $N21 --ceil 0 --reps $R21 --variants "$V21" > $OUT/gemv-21m.jsonl 2>> $OUT/logs.txt; log "gemv 21M rc=$?"
fi
grep -h . $OUT/torch*.jsonl | cut -c1-300
grep -h ceilings $OUT/gemv-*.jsonl
grep -h -A60 "done" $OUT/logs.txt | grep -v "^\[" | cut -c1-150
log "done"

# bench/gpu-int8 run 3 (one call): the host re-rank on worker threads (rerankThreads) against one
# thread, wall time against torch fp32 in the same call. Bundles out/gpu-int8/run.mjs (run.ts) and
# out/gpu-int8/rerank-host.mjs (rerank-host.ts). N1 / N21 / TORCH override for a dry run on lavapipe.
set -o pipefail
B=out/gpu-int8/run.mjs
H=out/gpu-int8/rerank-host.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
N21=${N21:-21015324}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version)" >> $OUT/info.txt
timeout 60 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
# default = min(8, cores - 1) re-rank workers; rtN = N workers (0: the calling thread alone).
V="default;rt0:rt=0;rt1:rt=1,nq=256/1024;rt2:rt=2,nq=256/1024;rt4:rt=4,nq=64/256/1024;rt15:rt=15,nq=64/256/1024"
V="$V;s0:sub=0,nq=256/1024;s256:sub=256,nq=1024;rt0s0:rt=0,sub=0,nq=1024;builtin:tensor=0,nq=256/1024"
timeout 120 node $B --n $N1 --variants "$V" --min-ms 300 --max-reps 10 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
# The host re-rank alone (no GPU): 1M x 768 rows in memory, 1024 queries x 40 random candidates.
timeout 60 node $H --n $N1 --nq 1024 --threads 0,1,2,4,8,15 --reps 7 --phases 1 > $OUT/rerank-host.jsonl 2>> $OUT/logs.txt; log "rerank-host rc=$?"
if [ $((SECONDS-S0)) -lt 200 ]; then
  timeout 45 python3 $T --n $N21 --d 768 --nq 1,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
  timeout 80 node $B --n $N21 --nq 1,1024 --host-rows regen --variants "default;rt0:rt=0" --min-ms 0 --max-reps 3 > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; log "int8 21M rc=$?"
fi
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | tail -45
grep -h . $OUT/rerank-host.jsonl
log "done"

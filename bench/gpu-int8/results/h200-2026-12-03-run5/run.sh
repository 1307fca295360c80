# bench/gpu-int8 run 5 (one call): the defaults after run 4 (rerankThreads min(15, cores - 1),
# rerankThreadsMinPairs 128) at every nq, repeated; the worker threshold at small nq in the index
# (mp0: always workers, mpbig: never) and alone (rerank-host, nq 1-64); 8 workers for comparison;
# 21M nq = 1 and 1024 with more repeats. torch fp32 in the same call. Bundles as run 4
# (out/gpu-int8/run.mjs, out/gpu-int8/rerank-host.mjs). N1 / N21 / TORCH override for a dry run.
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
timeout 60 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
V="default;default2;mp0:mp=0,nq=1/16;mpbig:mp=100000,nq=1/16/64;rt8:rt=8,nq=256/1024;s0:sub=0,nq=1024;default3"
timeout 90 node $B --n $N1 --variants "$V" --min-ms 300 --max-reps 20 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
timeout 40 node $H --n $N1 --nq 1,2,4,8,16,64 --threads 0,15 --path memory --reps 21 > $OUT/rerank-host.jsonl 2>> $OUT/logs.txt; log "rerank-host rc=$?"
if [ $((SECONDS-S0)) -lt 120 ]; then
  timeout 50 python3 $T --n $N21 --d 768 --nq 1,1024 --k 10 --reps 5 --chunk 4194304 --dtypes float32 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
  timeout 50 node $B --n $N21 --nq 1,1024 --host-rows regen --variants "default" --min-ms 0 --max-reps 8 > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; log "int8 21M rc=$?"
fi
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^' | tail -40
grep -h . $OUT/rerank-host.jsonl | cut -c1-200
grep -h . $OUT/torch*.jsonl | cut -c1-160
log "done"

# bench/gpu-int8 run 4 (one call): where the int8 index's wall time goes at each nq (the index's
# host profile: submit, gpu_wait, ids, rerank_setup / score / out), the re-rank from rows in memory
# without the sort (one job a worker), timestamps off (no second readback), worker count, the
# worker threshold (rerankThreadsMinPairs) and sub-batch size; torch fp32 in the same call.
# Bundles: out/gpu-int8/run.mjs (run.ts), out/gpu-int8/rerank-host.mjs (rerank-host.ts); the re-rank
# workers' script and the WebAssembly module are inside the bundles (strings). N1 / N21 / TORCH
# override for a dry run on lavapipe.
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
# default: 8 workers, threshold 8192 pairs, sub-batches of 512. nots: no GPU timestamps.
V="default;nots:ts=0;default2;rt0:rt=0,nq=64/256/1024;rt4:rt=4,nq=256/1024;rt15:rt=15,nq=256/1024"
V="$V;mp0:mp=0,nq=16/64/256;mp0nots:mp=0,ts=0,nq=16/64;s256:sub=256,nq=1024;s256nots:sub=256,ts=0,nq=1024;s0:sub=0,nq=1024;s128:sub=128,nq=256/1024"
timeout 120 node $B --n $N1 --variants "$V" --min-ms 300 --max-reps 15 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
# The host re-rank alone (no GPU): 1M x 768 rows in memory, nq queries x 40 random candidates.
timeout 60 node $H --n $N1 --nq 16,64,256,1024 --threads 0,2,4,8,15 --path memory,inheap --reps 9 > $OUT/rerank-host.jsonl 2>> $OUT/logs.txt; log "rerank-host rc=$?"
timeout 20 node $H --n $N1 --nq 1024 --threads 0,8 --path sorted --reps 5 >> $OUT/rerank-host.jsonl 2>> $OUT/logs.txt; log "rerank-host sorted rc=$?"
if [ $((SECONDS-S0)) -lt 150 ]; then
  timeout 45 python3 $T --n $N21 --d 768 --nq 1,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
  timeout 60 node $B --n $N21 --nq 1,1024 --host-rows regen --variants "default;nots:ts=0" --min-ms 0 --max-reps 3 > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; log "int8 21M rc=$?"
fi
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | tail -50
grep -h . $OUT/rerank-host.jsonl | cut -c1-230
grep -h . $OUT/torch*.jsonl | cut -c1-200
log "done"

# gpu-int8 run 8 (one call on nvidia-h200): the int8 re-rank handed to the workers through shared
# memory (rerankTuning.dispatch 'shared': a control block, Atomics.notify, blocks claimed by the
# calling thread and the workers) against one message a worker ('messages', rd=0, the path of runs
# 4-7). rerank-host.ts times the re-rank alone at 1M (same flags as run 5 for the messages rows);
# run.ts the int8 index at 1M one search at a time and with 2 / 4 in flight (conc=C), host profile;
# rc=0: the workers alone score (the calling thread only waits); ppt=P: wake threads for P pairs each;
# bpt=B: B blocks a thread (default 2). torch fp32 in the same call.
# Bundles (here; carry .device, out/gi8):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/gi8/run.mjs
#   (same for bench/gpu-int8/rerank-host.ts -> out/gi8/rerank-host.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run8/run.sh
set -o pipefail
OUT=${OUT:-/tmp/run8}
mkdir -p $OUT
B=out/gi8/run.mjs
H=out/gi8/rerank-host.mjs
T=${TORCH:-.device/torch_flat_baseline.py}
N1=${N1:-1000000}
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version); commit $(cat bench/gpu-int8/results/h200-2026-12-04-run8/COMMIT 2>/dev/null)" >> $OUT/info.txt
lscpu | grep -i "model name\|^cpu(s)\|mhz" >> $OUT/info.txt 2>&1
timeout 45 python3 $T --n $N1 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 1M rc=$?"
timeout 40 node $H --n $N1 --nq 1,4,16,64,256 --threads 15 --path memory --dispatch shared,messages,shared --reps 41 > $OUT/rerank-host.jsonl 2>> $OUT/logs.txt; log "rerank-host rc=$?"
V="warm:ts=0,nq=16/64;sh:ts=0;msg:rd=0,ts=0;shc2:ts=0,conc=2;msgc2:rd=0,ts=0,conc=2;shc4:ts=0,conc=4;msgc4:rd=0,ts=0,conc=4;shw:rc=0,ts=0,nq=16/64;p256:ppt=256,ts=0,nq=16/64;p512:ppt=512,ts=0,nq=16/64;b1:bpt=1,ts=0,nq=16/64;b4:bpt=4,ts=0,nq=16/64;sh2:ts=0,nq=16/64;msg2:rd=0,ts=0,nq=16/64;p256c2:ppt=256,ts=0,conc=2,nq=16/64;ts"
timeout 125 node $B --n $N1 --variants "$V" --min-ms 300 --max-reps 300 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; log "int8 1M rc=$?"
grep -h . $OUT/torch.jsonl | cut -c1-150
grep -h . $OUT/rerank-host.jsonl | cut -c1-200
grep -h -v '^{' $OUT/int8-*.jsonl | grep -v '^$' | tail -60
log "done"

# gpu-int8 run 16 (one call on nvidia-h200): the int8 index at 21M x 768 with its float32 rows in
# host memory (rerankFrom 'memory', read back from the f32 reference index: --host-rows gpu), so the
# re-rank runs on the workers as at 1M instead of regenerating each candidate row on the calling
# thread (runs 1-7 at 21M). One search at a time and 2 / 4 in flight; GPU ms from timestamps in a
# separate variant; torch fp32 / fp16 at 21M in the same call.
# Bundle (here; carry .device, out/w21):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/w21/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run16/run.sh
set -o pipefail
OUT=${OUT:-/tmp/run16}
mkdir -p $OUT
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version); commit $(cat bench/gpu-int8/results/h200-2026-12-04-run16/COMMIT 2>/dev/null)" >> $OUT/info.txt
timeout 150 python3 .device/torch_flat_baseline.py --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/torch.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
timeout 330 node out/w21/run.mjs --n 21015324 --host-rows gpu --variants "gpu;one:ts=0;c2:ts=0,conc=2;c4:ts=0,conc=4" --min-ms 400 --max-reps 20 > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; log "int8 21M rc=$?"
free -g | sed -n 2p >> $OUT/info.txt
grep -h . $OUT/torch.jsonl | cut -c1-160
grep -h -v '^{' $OUT/int8-21m.jsonl | grep -v '^$' | tail -24
grep -h "s\]" $OUT/logs.txt | tail -8
log "done"

# gpu-tensor run 14 (lead, ~07:30 UTC): around run 13's best workgroup targets (tws 1024 for 17-255
# queries, twb 1536 from bigBatch), at 32-1024 queries, twice each, 1M, k = 10 (k' = 40), against the defaults (run 12: 0.92 /
# 0.93 / 0.99x torch fp16). The per-segment lists' merge costs ~0.15-0.2 ms at 64 and ~1.2 ms at 1024
# (helper's estimate): fewer segments (targets) or wider merge levels may pay. torch in the same call.
# Bundle (carry .device, out/t14), from a clean worktree of COMMIT:
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t14/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run14/run.sh
set -o pipefail
OUT=${OUT:-/tmp/t14}; mkdir -p $OUT
N=${N:-1000000}
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 40 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 32,48,64,128,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $OUT/info.txt
V="warm:nq=32/64/256/1024;d:nq=32/48/64/128/256/1024"
V="$V;s768:tws=768,nq=64;s1k:tws=1024,nq=32/48/64/128;s1280:tws=1280,nq=64/128;s1536:tws=1536,nq=64"
V="$V;b1280:twb=1280,nq=256/1024;b1408:twb=1408,nq=256/1024;b1536:twb=1536,nq=256/1024;b1664:twb=1664,nq=256/1024;b1792:twb=1792,nq=256/1024"
V="$V;bb512:tbb=512,tws=1024,nq=256;bb512b:tbb=512,tws=1536,nq=256;s1kb:tws=1024,nq=64/128;b1536b:twb=1536,nq=256/1024;d2:nq=32/48/64/128/256/1024"
timeout 200 node out/t14/run.mjs --n $N --nq 64,256,1024 --variants "$V" --min-ms 300 --max-reps 40 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $OUT/info.txt
grep -h . $OUT/torch1m.jsonl | cut -c1-150
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40

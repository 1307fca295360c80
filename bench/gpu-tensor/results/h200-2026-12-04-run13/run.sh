# gpu-tensor run 13 (lead, ~07:20 UTC): the tensor scorer's workgroup targets and the index's merge
# fan-in at 1M x 64 / 256 / 1024 queries, k = 10 (k' = 40), against the defaults (run 12: 0.92 /
# 0.93 / 0.99x torch fp16). The per-segment lists' merge costs ~0.15-0.2 ms at 64 and ~1.2 ms at 1024
# (helper's estimate): fewer segments (targets) or wider merge levels may pay. torch in the same call.
# Bundle (carry .device, out/t13), from a clean worktree of COMMIT:
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t13/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run13/run.sh
set -o pipefail
OUT=${OUT:-/tmp/t13}; mkdir -p $OUT
N=${N:-1000000}
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 40 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 64,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $OUT/info.txt
V="warm:nq=64/256/1024;d:nq=64/256/1024"
V="$V;b1k:twb=1024,nq=256/1024;b3k:twb=3072,nq=256/1024;b4k:twb=4096,nq=256/1024;b1536:twb=1536,nq=256/1024"
V="$V;s1k:tws=1024,nq=64;s3k:tws=3072,nq=64;s4k:tws=4096,nq=64"
V="$V;f16:mfi=16;f64:mfi=64;f128:mfi=128;d2:nq=64/256/1024"
timeout 200 node out/t13/run.mjs --n $N --nq 64,256,1024 --variants "$V" --min-ms 300 --max-reps 40 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $OUT/info.txt
grep -h . $OUT/torch1m.jsonl | cut -c1-150
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40

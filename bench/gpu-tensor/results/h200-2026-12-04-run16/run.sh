# gpu-tensor run 16 (2026-12-04 ~10:30 UTC): issue 10 at 1M x 768, nq 64 / 256 / 1024 (run 15: 1.08 /
# 0.97-0.99 / 1.04-1.05x torch fp16). Where the GPU time goes (split.mjs: each dispatch timestamped in
# its own pass: pre-pass, scoring, merge_lists levels), then in one process against the defaults:
# whole-wave workgroup targets (12 resident warps an SM x 132 SMs = 1584 from 256 queries; 1056 /
# 1188 = 8 / 9 an SM below 256) and shared bounds (tensorTuning.share 8 / 4: workgroups publish
# their lists' m-th key, rows under the bound are not inserted). Each variant twice. torch fp16 in
# the same call. Predictions: bench/gpu-tensor/NOTES.md item 41.
# Bundles (carry .device, out/c1), from a clean worktree of COMMIT:
#   npx esbuild bench/gpu-tensor/index-21m.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/c1/index-21m.mjs   (and split.ts -> out/c1/split.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run16/run.sh
set -o pipefail
OUT=${OUT:-/tmp/t16}; mkdir -p $OUT
N=${N:-1000000}
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 40 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 64,256,1024 --k 10 --reps 10 --dtypes float16 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $OUT/info.txt
timeout 60 node out/c1/split.mjs --n $N --nq 64,256,1024 --reps 10 --variants 'd;w:twb=1584;s8:tsh=8' > $OUT/split.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] split rc=$?" | tee -a $OUT/info.txt
V="warm:nq=64/256/1024;d:nq=32/64/128/256/1024;w:twb=1584,nq=256/1024;s8:tsh=8,nq=32/64/128/256/1024;s8w:tsh=8,twb=1584,nq=256/1024;s4:tsh=4,nq=64/256/1024"
V="$V;t1056:tws=1056,nq=32/64/128;t1188:tws=1188,nq=64/128;s8t:tsh=8,tws=1056,nq=64/128"
V="$V;d2:nq=32/64/128/256/1024;w2:twb=1584,nq=256/1024;s8b:tsh=8,nq=32/64/128/256/1024;s8w2:tsh=8,twb=1584,nq=256/1024;s4b:tsh=4,nq=64/256/1024;t1056b:tws=1056,nq=32/64/128;t1188b:tws=1188,nq=64/128;s8tb:tsh=8,tws=1056,nq=64/128"
timeout 170 node out/c1/index-21m.mjs --n $N --nq 64,256,1024 --min-ms 300 --max-reps 40 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $OUT/info.txt
grep -h . $OUT/torch1m.jsonl | cut -c1-150
grep -h . $OUT/split.jsonl | cut -c1-200
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | cut -c1-110 | tail -70

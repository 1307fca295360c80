# gpu-tensor run 15 (lead, 2026-12-04 ~09:55 UTC; prepared ~07:25, when the device refused a new machine): 21M x 768 at 64 / 256 / 1024 queries with runs 13-14's
# workgroup targets (targetWorkgroupsSmall 1024, targetWorkgroups 1536; the defaults at COMMIT)
# against the previous 2048 / 2048 (run 12: 1.16 / 1.06 / 1.19x torch fp16). torch fp16 in the call.
# Also 1M at 1 / 64 / 256 / 1024 queries, the defaults three times (run 14: 256 at 0.99x), torch fp16 in the call.
# Bundle (carry .device, out/t15), from a clean worktree of COMMIT:
#   npx esbuild bench/gpu-tensor/index-21m.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t15/index-21m.mjs
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run15/run.sh
set -o pipefail
OUT=${OUT:-/tmp/t15}; mkdir -p $OUT
N21=${N21:-21015324}
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 90 python3 .device/torch_flat_baseline.py --n $N21 --d 768 --nq 64,256,1024 --k 10 --reps 5 --chunk 4194304 --dtypes float16 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 21M rc=$?" | tee -a $OUT/info.txt
timeout 200 node out/t15/index-21m.mjs --n $N21 --nq 64,256,1024 --host-rows regen --min-ms 0 --max-reps 3 \
  --variants 'warm:nq=64;d;old:tws=2048,twb=2048;d2;old2:tws=2048,twb=2048' > $OUT/index21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $OUT/info.txt
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1,64,256,1024 --k 10 --reps 10 --dtypes float16 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $OUT/info.txt
timeout 120 node out/t15/index-21m.mjs --n 1000000 --ceilings 1 --nq 1,64,256,1024 --min-ms 300 --max-reps 40 \
  --variants 'warm:nq=64/256;d;d2;d3' > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $OUT/info.txt
grep -h . $OUT/torch21m.jsonl $OUT/torch1m.jsonl | cut -c1-150; grep -h ceilings $OUT/int8-1m.jsonl
grep -h -v '^{' $OUT/index21m.jsonl $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40

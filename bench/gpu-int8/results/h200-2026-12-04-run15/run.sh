# gpu-int8 run 15: NOT RUN YET (prepared 2026-12-03 23:15 UTC; the device refused the start, 154 s left; a lavapipe dry run at N = 5000 worked): int8_gemv (rewritten
# with candidate buffers since its nq 16 figure of gemv-1) at 8 and 16 queries, forced (maxb=16,
# tensor=0), against the default (tensor scorer from 16 queries; at 8 the built-in kernels) at 1M x
# 768, k = 10, k' = 40; GPU ms from timestamps; torch fp32 / fp16 in the same call.
# Bundle (carry .device, out/r15):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/r15/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run15/run.sh
set -o pipefail
S0=$SECONDS
timeout 15 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 8,16 --k 10 --reps 10 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "torch rc=$? t=$((SECONDS-S0))"
timeout 40 node out/r15/run.mjs --n 1000000 --variants "d:nq=8/16;g16:maxb=16,tensor=0,nq=8/16;d2:nq=8/16" --min-ms 150 --max-reps 60 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "int8 rc=$? t=$((SECONDS-S0))"
grep -h . $OUT/torch.jsonl | cut -c1-150
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -12

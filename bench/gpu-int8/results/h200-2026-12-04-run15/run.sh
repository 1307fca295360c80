# gpu-int8 run 15 (prepared 2026-12-03 23:15 UTC, not run then: the device refused the start; run
# 2026-12-04 in one call with gpu-tensor run 7, whose script bench/gpu-tensor/results/
# h200-2026-12-04-run7/run.sh calls this one first): int8_gemv (rewritten with candidate buffers
# since its nq 16 figure of gemv-1) at 8 and 16 queries, forced (maxb=16, tensor=0), against the
# default (tensor scorer from 16 queries; at 8 the built-in kernels) at 1M x 768, k = 10, k' = 40;
# GPU ms from timestamps, each variant twice (spread); then nq 16 wall time with timestamps off, one
# search at a time and 2 / 4 in flight, for both; torch fp32 / fp16 in the same call.
# Bundle (carry .device, out/r15):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/r15/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run15/run.sh
# (OUT, N, INFO: the output folder, rows (1000000; the lavapipe dry run used 5000), the log of steps.)
set -o pipefail
N=${N:-1000000}
INFO=${INFO:-$OUT/info.txt}
S0=$SECONDS
timeout 20 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 8,16 --k 10 --reps 10 > $OUT/r15-torch.jsonl 2>> $OUT/logs.txt; echo "[r15 $((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
G='maxb=16,tensor=0'
V="d:nq=8/16;g16:$G,nq=8/16;d2:nq=8/16;g16b:$G,nq=8/16"
V="$V;d1w:ts=0,nq=16;dc2:ts=0,conc=2,nq=16;dc4:ts=0,conc=4,nq=16"
V="$V;g1w:$G,ts=0,nq=16;gc2:$G,ts=0,conc=2,nq=16;gc4:$G,ts=0,conc=4,nq=16"
timeout 75 node out/r15/run.mjs --n $N --variants "$V" --min-ms 150 --max-reps 60 > $OUT/r15-int8.jsonl 2>> $OUT/logs.txt; echo "[r15 $((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
grep -h . $OUT/r15-torch.jsonl | cut -c1-150
grep -h -v '^{' $OUT/r15-int8.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -14

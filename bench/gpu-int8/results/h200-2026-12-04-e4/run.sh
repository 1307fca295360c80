# gpu-int8 call e4 (2026-12-04, second session): int8_gemv's shared bounds with fewer live
# registers (ec58319): bound word read in flight (shareRead 1, default) or stored at once
# (shareRead=0), against none (share=0), with 16- and 8-bit queries, at 1M x 1 and 4 queries and
# 21M x 1. GPU ms unquantised; read floor from the call's read kernel.
# Bundle (carry .device, out/e4), from a clean worktree of the commit in out/e4/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e4/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e4/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e4}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e4/COMMIT)" >> $INFO
V="warm;d;w:shareRead=0;s0:share=0;q8:qbits=8;q8w:qbits=8,shareRead=0;q8s0:qbits=8,share=0;d2;w2:shareRead=0;s0b:share=0;q8wb:qbits=8,shareRead=0;q8s0b:qbits=8,share=0;d4:nq=4;w4:shareRead=0,nq=4;s04:share=0,nq=4;q84:qbits=8,nq=4;q8w4:qbits=8,shareRead=0,nq=4;q8s04:qbits=8,share=0,nq=4;d2n2:nq=2;s0n2:share=0,nq=2;q8n2:qbits=8,nq=2;d3"
timeout 150 node out/e4/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;d;w:shareRead=0;s0:share=0;q8:qbits=8;q8w:qbits=8,shareRead=0;q8s0:qbits=8,share=0;d2;s0b:share=0"
timeout 150 node out/e4/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-400
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

# H200 run 14 (one call, lead): the batched reduction defaults of run 13 at 21M, nq = 1: f16 with
# htr 4 (default since dc556d5) against htr 1, f32 tr 4 / 2 against tr 1 (default), at 21M and 1M
# x 768, k = 10 (float64 oracle on the query at 1M, 4 rows checked at 21M); ceilings for the read
# floor; torch fp32 / fp16 nq = 1 in the same call (--chunk 4194304 at 21M).
# Bundle (carry .device, out/r14):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/r14/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/floor.mjs out/r14/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-run14/run.sh
set -o pipefail
D=out/r14
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 20 python3 $T --n 1000000 --d 768 --nq 1 --k 10 --reps 20 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
R="--n 1000000 --min-ms 200 --max-reps 40 --oracle-queries 1 --nq 1"
timeout 25 node $D/gpu-flat.mjs $R --ceilings 1 --precisions f32,f16 --variants "d:;t2:tr=2,htr=2;t4:tr=4,htr=1;d2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
timeout 40 python3 $T --n 21015324 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 50 node $D/gpu-flat.mjs --n 21015324 --nq 1 --precisions f16,f32 --check-rows 4 --min-ms 0 --max-reps 8 --variants "d:;h1:htr=1,tr=4;d2:" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; node $D/floor.mjs $OUT/g1m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cut -c1-300 $OUT/summary.txt | grep -v "^torch"
grep -h . $OUT/t1m.jsonl $OUT/t21m.jsonl | cut -c1-150
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

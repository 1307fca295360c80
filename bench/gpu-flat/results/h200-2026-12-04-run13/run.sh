# H200 run 13 (one call, lead): (a) flat_gemv's batched reduction with the partials in scalar
# registers (7fcb129; run 12 measured the array version, 1.6-8.7x slower) at nq = 1, f16 and f32,
# 1M x 768, k = 10, float64 oracle on the query, the default run twice for the spread; ceilings for
# the read-floor ratios. (b) the int8 index at 1M, nq 16 / 64, in flight (conc 2 / 4) with the
# re-rank scored by the workers alone (rc=0) against the default (the calling thread takes blocks
# too): run 8 left nq 16 at 1.90-1.95x torch fp32. torch fp32 / fp16 in the same call.
# Bundles (carry .device, out/r13):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/r13/gpu-flat.mjs
#   npx esbuild bench/gpu-int8/run.ts ... --outfile=out/r13/run.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/floor.mjs out/r13/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-run13/run.sh
set -o pipefail
D=out/r13
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 40 python3 $T --n 1000000 --d 768 --nq 1,16,64 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
R="--n 1000000 --min-ms 200 --max-reps 40 --oracle-queries 1"
timeout 30 node $D/gpu-flat.mjs $R --ceilings 1 --nq 1 --precisions f32 --variants "d:;t8:tr=8;t32:tr=32;d2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv32 $?
timeout 30 node $D/gpu-flat.mjs $R --nq 1 --precisions f16 --variants "d:;h4:htr=4;h8:htr=8;h32:htr=32;d2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv16 $?
V="warm:ts=0,nq=16/64;shc2:ts=0,conc=2,nq=16/64;shwc2:rc=0,ts=0,conc=2,nq=16/64;shc4:ts=0,conc=4,nq=16/64;shwc4:rc=0,ts=0,conc=4,nq=16/64;shc2b:ts=0,conc=2,nq=16/64;shwc2b:rc=0,ts=0,conc=2,nq=16/64"
timeout 60 node $D/run.mjs --n 1000000 --variants "$V" --min-ms 300 --max-reps 300 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; el int8 $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/floor.mjs $OUT/g1m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cut -c1-300 $OUT/summary.txt | grep -v "^torch"
grep -h . $OUT/t1m.jsonl | cut -c1-150
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^' | tail -30
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

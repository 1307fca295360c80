# H200 call gm4 (lead): the 9-16-query class of flat_fused (f32, 4 x 4 micro-tiles in 16 x 128 blocks)
# at other workgroup targets (512 is from run 2, when the kernels were different) and block shapes
# (midF32 4x8 / 4x8w), nq 12 / 16 at 1M and 16 at 21M, k = 10; torch fp32 in the same call.
# Prediction: within +-5% of the default; 1.0x torch needs 7% (1M 1.80 vs 1.68 ms).
# Bundle (carry .device, out/gm4):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gm4/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gm4/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-gm4/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gm4-out}; mkdir -p $OUT
D=out/gm4
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
V="d:;t264:target=264;t384:target=384;t768:target=768;t1k:target=1024;m48:midF32=4x8;m48w:midF32=4x8w;m48h:midF32=4x8h;m48t:midF32=4x8,target=264;d2:"
if [ "$TQ" = 1 ]; then timeout 40 python3 $T --n $N1 --d 768 --nq 12,16 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N1 --nq 12,16 --precisions f32 --min-ms 200 --max-reps 60 --oracle-queries 2 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N21 --d 768 --nq 16 --k 10 --reps 5 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N21 --nq 16 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 8 --variants "$V" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-330 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

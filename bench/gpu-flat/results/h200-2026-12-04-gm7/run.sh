# H200 call gm7 (lead): the f32 block of 16 (flat_gemv_multi, gemvMulti bit 4) with its own knobs
# (m16ru / m16uw / m16sp / m16ci) around gm6's best (RU 2, checks every 6: 1M nq 12 / 16 1.631 /
# 1.669 ms = 0.99x torch fp32, 21M 32.98 = 1.07x): one word in flight, checks every 7-15 with 256
# candidate slots; nq 12 / 16 at 1M and 16 at 21M, f32, k = 10; torch fp32 in the same call.
# Prediction: longer check intervals 1-3% faster (fewer barriers), uw 1 1-2% faster.
# Bundle (carry .device, out/gm7):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gm7/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gm7/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-gm7/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gm7-out}; mkdir -p $OUT
D=out/gm7
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
M="gemvMulti=7,m16ru=2"
V="d:;a:$M,m16ci=6;aw:$M,m16uw=1,m16ci=6;aw7:$M,m16uw=1,m16ci=7;s8:$M,m16uw=1,m16sp=256,m16ci=8;s12:$M,m16uw=1,m16sp=256,m16ci=12;s15:$M,m16uw=1,m16sp=256,m16ci=15;s12w2:$M,m16sp=256,m16ci=12;d2:;ab:$M,m16ci=6"
if [ "$TQ" = 1 ]; then timeout 40 python3 $T --n $N1 --d 768 --nq 12,16 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N1 --nq 12,16 --precisions f32 --min-ms 200 --max-reps 60 --oracle-queries 2 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N21 --d 768 --nq 16 --k 10 --reps 5 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N21 --nq 16 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 8 --variants "$V" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-330 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

# H200 call gm5 (lead): flat_gemv_multi for 9-16 queries (one block of 16) with the first queries staged
# in workgroup memory (mqw) and 2 or 1 rows an iteration (mru; gm3 measured staging only with 4 rows),
# against flat_fused, nq 12 / 16 at 1M and 16 at 21M, f32, k = 10; torch fp32 in the same call.
# Prediction (gm3 NOTES): RU 2 staged 5-10% faster than RU 4 staged (1.795 ms at 1M nq 16); 1.0x torch needs <= 1.66.
# Bundle (carry .device, out/gm5):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gm5/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gm5/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-gm5/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gm5-out}; mkdir -p $OUT
D=out/gm5
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
M="gemvMulti=7,mqw=1"
V="d:;q4:$M;q2:$M,mru=2;q2w1:$M,mru=2,muw=1;q1:$M,mru=1;n2:gemvMulti=7,mru=2;q2t5:$M,mru=2,mtarget=512;q2c1:$M,mru=2,mci=1;d2:;q2b:$M,mru=2"
if [ "$TQ" = 1 ]; then timeout 40 python3 $T --n $N1 --d 768 --nq 12,16 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N1 --nq 12,16 --precisions f32 --min-ms 200 --max-reps 60 --oracle-queries 2 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N21 --d 768 --nq 16 --k 10 --reps 5 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N21 --nq 16 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 8 --variants "$V" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-330 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

# H200 call gm6 (lead): around gm5's best, flat_gemv_multi one block of 16 at 2 rows an iteration
# unstaged (n2: 1M nq 12 / 16 1.677 / 1.741 ms, 21M 34.47): words in flight, check interval,
# workgroup target; f16 the same (gemvMulti bit 8, hmru 2); nq 12 / 16 at 1M, 16 at 21M, k = 10;
# torch fp32 / fp16 in the same call. Prediction: mci / mtarget within 3%; f16 level with flat_fused.
# Bundle (carry .device, out/gm6):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gm6/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gm6/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-gm6/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gm6-out}; mkdir -p $OUT
D=out/gm6
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
M="gemvMulti=15,mru=2,hmru=2"
V="d:;n2:$M;n2w1:$M,muw=1,hmuw=1;n2c2:$M,mci=2;n2c6:$M,mci=6;n2t132:$M,mtarget=132;n2t396:$M,mtarget=396;d2:;n2b:$M"
if [ "$TQ" = 1 ]; then timeout 40 python3 $T --n $N1 --d 768 --nq 12,16 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N1 --nq 12,16 --precisions f32,f16 --min-ms 200 --max-reps 60 --oracle-queries 2 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N21 --d 768 --nq 16 --k 10 --reps 5 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N21 --nq 16 --precisions f32,f16 --check-rows 4 --min-ms 0 --max-reps 8 --variants "$V" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-330 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

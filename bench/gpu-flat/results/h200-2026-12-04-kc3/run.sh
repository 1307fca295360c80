# H200 call kc3: the defaults after kc1-kc2 (17..32 queries on 4x8r, 33..47 on 8x8w, 132 workgroups:
# midBF32 / midBF32L / gemmTargetM) against `old` (32 x 8 of 4 x 4 at targetWorkgroups), and the final
# f32 figures: 1M nq 16..1024 (f16 at 32 / 40 too), 21M nq 32 / 64 / 256 / 1024; torch in the same call.
# Predictions: NOTES.md "kc3 prediction". Each variant twice (_2); `w` the warm-up (ids all must equal).
# Bundle (clean worktree of the commit; carry .device, out/b1):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/b1/run.mjs; cp bench/gpu-flat/summary.mjs out/b1/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-kc3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/kc3-out}; mkdir -p $OUT
D=${D:-out/b1}
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
O="midBF32=,midBF32L=,gemmTargetM=0"
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N1 --d 768 --nq 16,20,32,40,47,64,256,1024 --k 10 --reps 10 --dtypes float32,float16 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 100 node $D/run.mjs --n $N1 --nq 20,32,40,47 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "w:;d:;old:$O;d_2:;old_2:$O" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mM $?
timeout 100 node $D/run.mjs --n $N1 --nq 16,64,256,1024 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "w:;d:;d_2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mB $?
timeout 60 node $D/run.mjs --n $N1 --nq 32,40 --precisions f16 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "w:;d:;old:$O;d_2:;old_2:$O" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mH $?
if [ "$TQ" = 1 ]; then timeout 100 python3 $T --n $N21 --d 768 --nq 32,64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 150 node $D/run.mjs --n $N21 --nq 32,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants "d:;old:$O" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-500 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

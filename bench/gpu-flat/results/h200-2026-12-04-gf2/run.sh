# H200 call gf2: after gf1 (TSEL + ROT 1.14-1.17x at 1M nq 256 / 1024, 1.20x at 64; SWZ on top
# slower; 8x8w at nq 64 with TSEL + ROT + SWZ 1.12x over 4x8): DB 2 (two staging buffers at fixed
# offsets, one barrier a step, KC 2 for 8x8w, 2 or 4 for 4x8) on top of TSEL + ROT, and 8x8w for the
# 48..127 class without SWZ; each against the defaults and TSEL + ROT (`tr`, twice: the spread), f32,
# k = 10, nq 64 / 256 / 1024, 1M and 21M, torch fp32 in the same call.
# Prediction (NOTES.md "gf2"): DB 2 0-8% over `tr` at 256 / 1024 (the staging stores overlap other
# warps' multiply-adds; one barrier a step); `trw` 1.1x over `tr` at nq 64 (gf1: trsw / trs 1.12x).
# Bundle (carry .device, out/gf2):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gf2/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gf2/
# On the device: source .device/setup.sh && bash out/gf2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gf2-out}; mkdir -p $OUT
D=${D:-out/gf2}
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
A="tsel=6,rot=6"
V="w:;d:;tr:$A;trw:$A,bigF32=8x8w;b2:$A,db2=6,db2kc=2;b2w:$A,db2=6,db2kc=2,bigF32=8x8w;b4:$A,db2=6,db2kc=4;d2:;tr2:$A"
V21="w:;d:;tr:$A;trw:$A,bigF32=8x8w;b2:$A,db2=6,db2kc=2;b2w:$A,db2=6,db2kc=2,bigF32=8x8w;b4:$A,db2=6,db2kc=4;tr2:$A"
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N1 --d 768 --nq 64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 150 node $D/gpu-flat.mjs --n $N1 --nq 64,256,1024 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 90 python3 $T --n $N21 --d 768 --nq 64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 150 node $D/gpu-flat.mjs --n $N21 --nq 64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants "$V21" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-400 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

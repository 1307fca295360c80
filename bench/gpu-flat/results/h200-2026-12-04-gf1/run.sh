# H200 call gf1: flat_fused's TSEL (threshold test in registers, candidate slots folded by the
# owners: no score parking, no owner scan) and ROT (rotated staging slots: the staging stores lose
# their 4-way bank conflicts), with SWZ on 8x8w (never measured there), at nq 64 / 256 / 1024
# (classes 2 and 4: knob bit mask 6), f32, k = 10; torch fp32 in the same call; 1M sweep, 21M for
# the likely winners. NS rows (nosel) are the GEMM alone, wrong by design.
# Predictions (bench/gpu-flat/NOTES.md "gf1"): TSEL 1.05-1.10x at 1024, 1.15-1.25x at 64; ROT + SWZ
# on 8x8w 1.05-1.20x if the workgroup-memory pipe is near its limit there (8x8w: ~0.94 of the FMA
# time by count), else level (as SWZ on 8x8s / 4x8 in run 8).
# Bundle (carry .device, out/gf1):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gf1/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gf1/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-gf1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gf1-out}; mkdir -p $OUT
D=${D:-out/gf1}
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
A="tsel=6,rot=6,swz=6"
V="w:;d:;r:rot=6;s:swz=6;rs:rot=6,swz=6;t:tsel=6;tr:tsel=6,rot=6;trs:$A;trs8:$A,tselCap=8;trsw:$A,bigF32=8x8w;trsk8:$A,kc=8;trsg:$A,gt=264;dNS:nosel=1;rsNS:rot=6,swz=6,nosel=1;d2:"
V21="w:;d:;rs:rot=6,swz=6;t:tsel=6;tr:tsel=6,rot=6;trs:$A;d2:"
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N1 --d 768 --nq 64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 150 node $D/gpu-flat.mjs --n $N1 --nq 64,256,1024 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 90 python3 $T --n $N21 --d 768 --nq 64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 150 node $D/gpu-flat.mjs --n $N21 --nq 64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants "$V21" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-400 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

# H200 call gf3: the defaults adopted from gf1-gf2 (TSEL + ROT on 8x8w from 48 queries) against the
# old ones (the scan, no ROT, 4x8 at 48..127: `old`) in one process each for f32 and f16 (f16 takes the
# f32 class knobs, f16Cls 1, not measured in gf1-gf2), and TSEL + ROT for 17..47 queries too (`c1`,
# class bit 1, at nq 32); 1M x 768, k = 10, nq 32 / 64 / 256 / 1024; torch fp32 and fp16 in the same call.
# Prediction (NOTES.md "gf3"): f32 as gf2 (1.14-1.35x over `old`); f16 1.1-1.3x over `old` (same
# blocks and selection, half the bytes: compute-bound alike); nq 32 `c1` 1.05-1.15x over `d`; 32 / 8
# candidate slots a query (`q32`, `q8`) within 1% of 16 (gf1: 8 level).
# Bundle (carry .device, out/gf3):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gf3/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gf3/
# On the device: source .device/setup.sh && bash out/gf3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gf3-out}; mkdir -p $OUT
D=${D:-out/gf3}
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/g1m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
O="tsel=0,rot=0,bigF32="
V="w:;old:$O;d:;c1:tsel=7,rot=7;q32:tselCap=32;q8:tselCap=8;d2:;old2:$O"
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N1 --d 768 --nq 32,64,256,1024 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 200 node $D/gpu-flat.mjs --n $N1 --nq 32,64,256,1024 --precisions f32,f16 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-400 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

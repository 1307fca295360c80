# H200 call gm2: flat_gemv_multi with named accumulators (gm1: an indexed acc[], 5x slower) (5-16 queries, each row read once for the batch) against the
# flat_fused default at nq 5 / 8 / 12 / 16 (1M) and 8 / 16 (21M), f32 and f16, x 768, k = 10; torch fp32 / fp16 in the
# same call. Float64 oracle on 2 queries at 1M (every variant), 4 rows found at 21M f32.
# Bundle (carry .device, out/gm2):
#   flock /tmp/tessera-build.lock npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gm2/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gm2/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-gm2/run.sh
# Local dry run (lavapipe): N1=3000 N21=5000 TQ=0 bash bench/gpu-flat/results/h200-2026-12-04-gm2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gm2-out}; mkdir -p $OUT
D=out/gm2
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
M="gemvMulti=3"
V1=${V1:-"d:;m:$M;m1:$M,muw=1,hmuw=1;r2:$M,mru=2,hmru=2;r1:$M,mru=1,hmru=1;c3:$M,mci=3;t264:$M,mtarget=264;t1k:$M,mtarget=1056;d2:;m2:$M"}
V21=${V21:-"d:;m:$M;m1:$M,muw=1,hmuw=1;r2:$M,mru=2,hmru=2;c3:$M,mci=3;m2:$M"}
if [ "$TQ" = 1 ]; then timeout 40 python3 $T --n $N1 --d 768 --nq 5,8,12,16 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N1 --nq 5,8,12,16 --precisions f32,f16 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$V1" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N21 --d 768 --nq 8,16 --k 10 --reps 3 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 90 node $D/gpu-flat.mjs --n $N21 --nq 8,16 --precisions f32,f16 --check-rows 4 --min-ms 0 --max-reps 6 --variants "$V21" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-330 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

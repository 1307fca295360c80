# H200 call hq1 (lead): flat_gemv's f16 one-query path with the query in registers (hqr 1) and two
# passes' rows loaded together (hrp 2), 1M and 21M x 768, k = 10, against the default (shared TR path),
# read-floor ratios from the same call's ceilings; the f32 and f16 defaults also from the previous
# commit's bundle (the reduction's carry steps moved into a function: no change expected). torch fp16
# / fp32 nq = 1 in the same call (--chunk 4194304 at 21M).
# Bundles (carry .device, out/hq1), from a clean worktree of the commit named in COMMIT:
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/hq1/gpu-flat.mjs   (and f198fe3 -> gpu-flat-old.mjs)
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/floor.mjs out/hq1/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-hq1/run.sh
set -o pipefail
D=out/hq1
T=.device/torch_flat_baseline.py
N=${N:-1000000}
N21=${N21:-21015324}
OUT=${OUT:-/tmp/hq1}; mkdir -p $OUT
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
[ -f $T ] && { timeout 30 python3 $T --n $N --d 768 --nq 1 --k 10 --reps 20 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; }
R="--n $N --min-ms 200 --max-reps 60 --oracle-queries 1 --nq 1"
timeout 60 node $D/gpu-flat.mjs $R --ceilings 1 --precisions f16 --variants "warm:;d:;q1:hqr=1;q2:hqr=1,hrp=2;q2t8:hqr=1,hrp=2,htr=8;q1t8:hqr=1,htr=8;q2t2:hqr=1,hrp=2,htr=2;d2:;q2b:hqr=1,hrp=2;q1b:hqr=1" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f16new $?
timeout 30 node $D/gpu-flat-old.mjs $R --precisions f16,f32 --variants "old:;old2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el old $?
timeout 30 node $D/gpu-flat.mjs $R --precisions f32 --variants "d:;d2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f32new $?
[ -f $T ] && { timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; }
timeout 80 node $D/gpu-flat.mjs --n $N21 --nq 1 --ceilings 1 --precisions f16 --check-rows 4 --min-ms 0 --max-reps 10 --variants "d:;q1:hqr=1;q2:hqr=1,hrp=2;d2:;q2b:hqr=1,hrp=2" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/floor.mjs $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; node $D/floor.mjs $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cut -c1-260 $OUT/summary.txt | grep -v "^torch"
grep -h . $OUT/t1m.jsonl $OUT/t21m.jsonl 2>/dev/null | cut -c1-150
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

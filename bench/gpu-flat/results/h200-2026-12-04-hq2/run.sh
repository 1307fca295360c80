# H200 call hq2 (lead): flat_gemv's one-query register path (qr f32 / hqr f16, commit in COMMIT) at
# other workgroup targets (a path holding more registers fits fewer workgroups an SM, so 1024
# workgroups may no longer be one wave), 1M and 21M x 768, k = 10, read-floor ratios from the
# call's ceilings, torch fp16 / fp32 nq = 1 in the same call (--chunk 4194304 at 21M).
# Bundle (carry .device, out/hq2) from a clean worktree of COMMIT:
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/hq2/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/floor.mjs out/hq2/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-hq2/run.sh
set -o pipefail
D=out/hq2
T=.device/torch_flat_baseline.py
N=${N:-1000000}
N21=${N21:-21015324}
C=${C:-1}
OUT=${OUT:-/tmp/hq2}; mkdir -p $OUT
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
[ -f $T ] && { timeout 30 python3 $T --n $N --d 768 --nq 1 --k 10 --reps 20 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; }
R="--n $N --min-ms 200 --max-reps 60 --oracle-queries 1 --nq 1"
timeout 60 node $D/gpu-flat.mjs $R --ceilings $C --precisions f16 --variants "warm:hqr=1;d:;q:hqr=1;q528:hqr=1,gemvTargetF16=528;q660:hqr=1,gemvTargetF16=660;q792:hqr=1,gemvTargetF16=792;q1320:hqr=1,gemvTargetF16=1320;q2048:hqr=1,gemvTargetF16=2048;q2:hqr=1,htr=2;qb:hqr=1;d2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f16 $?
timeout 60 node $D/gpu-flat.mjs $R --precisions f32 --variants "d:;q:qr=1;q396:qr=1,targetWorkgroups=396;q660:qr=1,targetWorkgroups=660;q1024:qr=1,targetWorkgroups=1024;q264:qr=1,targetWorkgroups=264;qt2:qr=1,tr=2;qb:qr=1;d2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f32 $?
[ -f $T ] && { timeout 45 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; }
timeout 90 node $D/gpu-flat.mjs --n $N21 --nq 1 --ceilings $C --precisions f16,f32 --check-rows 4 --min-ms 0 --max-reps 10 --variants "d:;q:qr=1,hqr=1;q660:qr=1,hqr=1,gemvTargetF16=660,targetWorkgroups=660;q2048:qr=1,hqr=1,gemvTargetF16=2048,targetWorkgroups=1024;qb:qr=1,hqr=1;d2:" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/floor.mjs $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; node $D/floor.mjs $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cut -c1-300 $OUT/summary.txt | grep -v "^torch"
grep -h . $OUT/t1m.jsonl $OUT/t21m.jsonl 2>/dev/null | cut -c1-150
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

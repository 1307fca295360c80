# H200 run 12 of bench/gpu-flat (one call): flat_gemv's batched transposed reduction at nq = 1
# (tr / htr: rows of tr passes reduced together; ru 1 / hru 1, so tr rows) against one subgroupAdd
# a row (d, d2: the default twice, for the spread), f16 at 1024 workgroups (gemvTargetF16), 1M and
# 21M x 768, k = 10, float64 oracle on the query at 1M; ceilings for the read-floor ratios. torch
# fp32 / fp16 in the same call. Bundle: out/gf12/gpu-flat.mjs; carry .device, out/gf12.
set -o pipefail
D=out/gf12
B=$D/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 30 python3 $T --n 1000000 --d 768 --nq 1,16 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
R="--n 1000000 --min-ms 200 --max-reps 40 --oracle-queries 1"
VR="d:;t4:tr=4;t8:tr=8;t16:tr=16;t32:tr=32;d2:"
VH="d:;g1k:gemvTargetF16=1024;h4:htr=4;h8:htr=8;h16:htr=16;h32:htr=32;h8g:htr=8,gemvTargetF16=1024;h32g:htr=32,gemvTargetF16=1024;d2:"
timeout 35 node $B $R --ceilings 1 --nq 1 --precisions f32 --variants "$VR" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv32 $?
timeout 35 node $B $R --nq 1 --precisions f16 --variants "$VH" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv16 $?
timeout 20 node $B $R --nq 4 --precisions f16 --variants "d:;g1k:gemvTargetF16=1024;d2:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv16q4 $?
timeout 40 python3 $T --n 21015324 --d 768 --nq 1 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 25 node $B --n 21015324 --nq 1 --precisions f16 --min-ms 0 --max-reps 5 --variants "d:;g1k:gemvTargetF16=1024;h8g:htr=8,gemvTargetF16=1024;h32g:htr=32,gemvTargetF16=1024;h8:htr=8;d2:" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m16 $?
timeout 25 node $B --n 21015324 --nq 1 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 5 --variants "d:;t8:tr=8;t32:tr=32;d2:" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m32 $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; node $D/floor.mjs $OUT/g1m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cut -c1-300 $OUT/summary.txt | grep -v "^torch"; cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

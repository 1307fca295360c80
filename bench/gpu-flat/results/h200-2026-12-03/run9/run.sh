# H200 run 9 of bench/gpu-flat (one call): flat_fused's selection with owners spread over the subgroups
# (selOwn) and queued heap inserts folded side by side (selQ / selCap), with the blocks run 8 found
# fastest (8x8s, 8x8w, mid 4x8h), against the GEMM without selection (*NS) at 1M; then the per-class
# composition of the fastest (pick.cjs) against the default at 1M (float64 oracle on the first query)
# and 21M; torch fp32/fp16 in the same call. Bundle: out/gf9/gpu-flat.mjs; carry .device, out/gf9.
set -o pipefail
D=out/gf9
B=$D/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 40 python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
R="--n 1000000 --precisions f32 --min-ms 300 --max-reps 10"
Q="selOwn=7,selQ=7"
VA="d:;e:bigF32=8x8s;w:bigF32=8x8w;eo:bigF32=8x8s,selOwn=7;ec4:bigF32=8x8s,$Q,selCap=4;ec8:bigF32=8x8s,$Q,selCap=8;eq8:bigF32=8x8s,selQ=7,selCap=8;ec8g264:bigF32=8x8s,gt=264,$Q,selCap=8;dc8:$Q,selCap=8;do:selOwn=7;wc8:bigF32=8x8w,$Q,selCap=8;wc4:bigF32=8x8w,$Q,selCap=4;eNS:bigF32=8x8s,nosel=1;wNS:bigF32=8x8w,nosel=1;e2:bigF32=8x8s"
timeout 120 node $B $R --nq 64,256,1024 --oracle-queries 1 --variants "$VA" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el sweepA $?
VB="d:;h:midF32=4x8h;ho:midF32=4x8h,selOwn=7;hc4:midF32=4x8h,$Q,selCap=4;hc8:midF32=4x8h,$Q,selCap=8;dc8:$Q,selCap=8;do:selOwn=7;mc8:midF32=4x8,$Q,selCap=8;hNS:midF32=4x8h,nosel=1;h2:midF32=4x8h"
timeout 60 node $B $R --nq 1,16,32 --oracle-queries 1 --variants "$VB" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el sweepB $?
C=$(node $D/pick.cjs $OUT/g1m.jsonl "$VA;$VB" 2>> $OUT/info.txt); echo "combined: $C" | tee -a $OUT/info.txt
timeout 60 node $B $R --nq 1,16,64,256,1024 --check-rows 4 --oracle-queries 1 --variants "d3:;$C" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el comb1m $?
timeout 90 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 90 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants "d:;$C" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cut -c1-420 $OUT/summary.txt; cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

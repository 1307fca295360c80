# H200 run 7 of bench/gpu-flat (one call): flat_fused's staging stores, score parking and reject
# test without Tint's clamps (this tree) vs a32bc9d's shader (run 6's default), and the knobs whose
# conclusions were drawn with the multiply loop's clamps (runs 2-5), at 1M x 768 f32, k = 10;
# torch fp32/fp16 in the same call. Bundles: build.mjs beside this (carry .device, out/gf7).
set -o pipefail
B=out/gf7/gpu-flat.mjs
A=out/gf7/gpu-flat-a32.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
NQ=1,16,64,256,1024
R="--n 1000000 --nq $NQ --precisions f32 --min-ms 300 --max-reps 10"
timeout 30 python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
# a32bc9d's shader, default knobs (run 6's `d`), twice around the sweep: the run-to-run spread.
timeout 25 node $A $R --variants "a32:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el a32 $?
V="d;k8:kc=8;e84:big=8x4;e88:big=8x8;e88s:big=8x8s;e88k8:big=8x8,kc=8;g132:gt=132;g396:gt=396;g528:gt=528;t264:target=264;t396:target=396;t1056:target=1056;ch0:chain=0;l1:lay=1;d2:"
timeout 60 node $B $R --check-rows 4 --oracle-queries 1 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el sweep $?
timeout 20 node $B $R --variants "dnr:" --toggles disable_robustness >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el nr $?
timeout 20 node $A $R --variants "a32b:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el a32b $?
node out/gf7/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl > $OUT/summary.txt
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cat $OUT/summary.txt; echo "total t=$((SECONDS-S0))"

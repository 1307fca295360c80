# H200 run 6 of bench/gpu-flat (one call, lead): a32bc9d (flat_fused's multiply loop without Tint's
# clamps on the robust device) at 1M, robust vs disable_robustness, with run 3's staging variants
# (8x8 tiles, double buffering) re-tried under both; torch fp32/fp16 in the same call.
set -o pipefail
B=out/gf6/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
NQ=1,16,64,256,1024
timeout 60 python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
V="d;b88:big=8x8;db:db=1"
timeout 60 node $B --n 1000000 --nq $NQ --precisions f32 --check-rows 4 --oracle-queries 1 --min-ms 100 --max-reps 5 --variants "$V" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f32 $?
timeout 60 node $B --n 1000000 --nq $NQ --precisions f32 --check-rows 4 --min-ms 100 --max-reps 5 --variants "$V" --toggles disable_robustness >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f32nr $?
timeout 40 node $B --n 1000000 --nq 1,16,64 --precisions f16 --oracle-queries 1 --min-ms 100 --max-reps 5 >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f16 $?
node out/gf6/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl > $OUT/summary.txt
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cat $OUT/summary.txt; echo "total t=$((SECONDS-S0))"

# H200 run 5 of bench/gpu-flat (one call): the defaults adopted from run 4 (gemmTarget 264, f16 gemv one
# row of the lane's share, one query's words in registers) against the old ones ('o'), robust and
# disable_robustness, 1M and 21M, torch in the same call. At most 8 files back.
set -o pipefail
B=out/gf5/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
NQ=1,4,16,64,256,1024
timeout 60 python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
O32="d;g528:gt=528;o:gt=0,qr=0"
O16="d;h264:hgt=264;o:hgt=0,qr=0,hru=2,huw=1"
timeout 50 node $B --n 1000000 --nq $NQ --precisions f32 --check-rows 4 --oracle-queries 1 --min-ms 100 --max-reps 5 --variants "$O32" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f32 $?
timeout 40 node $B --n 1000000 --nq $NQ --precisions f32 --check-rows 4 --min-ms 100 --max-reps 5 --variants "$O32" --toggles disable_robustness >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f32nr $?
timeout 50 node $B --n 1000000 --nq $NQ --precisions f16 --oracle-queries 1 --min-ms 100 --max-reps 5 --variants "$O16" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f16 $?
timeout 40 node $B --n 1000000 --nq $NQ --precisions f16 --min-ms 100 --max-reps 5 --variants "$O16" --toggles disable_robustness >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el f16nr $?
node bench/gpu-flat/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl > $OUT/summary.txt
timeout 70 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 30 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 2 >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m32 $?
timeout 30 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 2 --toggles disable_robustness >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m32nr $?
[ $((SECONDS-S0)) -lt 200 ] && { timeout 25 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f16 --min-ms 0 --max-reps 2 >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m16 $?; }
[ $((SECONDS-S0)) -lt 220 ] && { timeout 25 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f16 --min-ms 0 --max-reps 2 --toggles disable_robustness >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m16nr $?; }
node bench/gpu-flat/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl >> $OUT/summary.txt
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cat $OUT/summary.txt; echo "total t=$((SECONDS-S0))"

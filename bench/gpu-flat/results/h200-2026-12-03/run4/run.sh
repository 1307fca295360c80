# H200 run 4 of bench/gpu-flat (one call): Dawn toggles (disable_robustness, vulkan_enable_f16_on_nvidia) x
# kernel knobs at 1M for f32 and f16, torch in the same call; then 21M with the best. At most 8 files back.
set -o pipefail
B=out/gf4/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
NQ=1,4,16,64,256,1024
timeout 60 python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
V32="d;t264:target=264;t396:target=396;t528:target=528;t792:target=792;t1056:target=1056;e8:big=8x8;e84:big=8x4;uw6:uw=6;ru2:ru=2"
timeout 60 node $B --n 1000000 --nq $NQ --precisions f32 --check-rows 4 --min-ms 100 --max-reps 5 --variants "$V32" >> $OUT/g1m32.jsonl 2>> $OUT/logs.txt; el f32 $?
timeout 75 node $B --n 1000000 --nq $NQ --precisions f32 --check-rows 4 --oracle-queries 1 --min-ms 100 --max-reps 5 --variants "$V32" --toggles disable_robustness >> $OUT/g1m32.jsonl 2>> $OUT/logs.txt; el f32nr $?
V16="d;h32:huw=3,hru=2;h31:huw=3,hru=1;h14:huw=1,hru=4;h18:huw=1,hru=8;h24:huw=2,hru=4;t528:target=528;t1056:target=1056;e8:big=8x8"
for TG in "" disable_robustness vulkan_enable_f16_on_nvidia vulkan_enable_f16_on_nvidia,disable_robustness; do
  timeout 45 node $B --n 1000000 --nq $NQ --precisions f16 --min-ms 100 --max-reps 5 --variants "$V16" --toggles "$TG" >> $OUT/g1m16.jsonl 2>> $OUT/logs.txt; el "f16[$TG]" $?
done
P32=$(node out/gf4/pick.cjs $OUT/g1m32.jsonl disable_robustness "$V32"); P16=$(node out/gf4/pick.cjs $OUT/g1m16.jsonl '*' "$V16")
echo "pick f32(nr) $P32 f16 $P16" | tee -a $OUT/info.txt
node bench/gpu-flat/summary.mjs $OUT/t1m.jsonl $OUT/g1m32.jsonl $OUT/g1m16.jsonl > $OUT/summary.txt
timeout 70 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 40 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 2 >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m-d $?
IFS='|' read K1 KQ T1 TQ <<< "$P32"
[ $((SECONDS-S0)) -lt 280 ] && timeout 60 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 2 --variants "d;b1:$K1;bq:$KQ" --toggles disable_robustness >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m-nr $?
IFS='|' read H1 HQ HT1 HTQ <<< "$P16"
if [ $((SECONDS-S0)) -lt 300 ]; then
  timeout 25 node $B --n 21015324 --nq 1,16,64 --precisions f16 --min-ms 0 --max-reps 2 >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m16-d $?
  timeout 30 node $B --n 21015324 --nq 1,16,64 --precisions f16 --min-ms 0 --max-reps 2 --variants "d;b1:$H1" --toggles "$HT1" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m16-best $?
fi
node bench/gpu-flat/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl >> $OUT/summary.txt
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cat $OUT/summary.txt; echo "total t=$((SECONDS-S0))"

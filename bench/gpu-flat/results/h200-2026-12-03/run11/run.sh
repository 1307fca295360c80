# H200 run 11 of bench/gpu-flat (one call), timestamps unquantised: the defaults run 10 picked
# (bigF32L 8x8w, f16Cls 1, midF16 4x8h) at 1M and 21M x 768, k = 10, every nq, f32 and f16 (float64
# oracle on the first query at 1M), and flat_gemv with the next pass's words loaded before the
# current pass's arithmetic (pf / hpf: r* f32, h* f16); ceilings for the nq = 1 floor ratios; the
# gemv picks (run10/pick.cjs) against the defaults at 21M. torch fp32 / fp16 in the same call.
# Bundle: out/gf11/gpu-flat.mjs; carry .device, out/gf11.
set -o pipefail
D=out/gf11
B=$D/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 40 python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
R="--n 1000000 --min-ms 200 --max-reps 40 --oracle-queries 1"
VR="d:;rp:pf=1;rpt1k:pf=1,target=1024;d2:"
VH="d:;hp:hpf=1;hpt1k:hpf=1,target=1024;hp23:hpf=1,hru=2,huw=3;ht1k:target=1024;d2:"
timeout 30 node $B $R --ceilings 1 --nq 1,4 --precisions f32 --variants "$VR" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv32 $?
timeout 30 node $B $R --nq 1,4 --precisions f16 --variants "$VH" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv16 $?
timeout 30 node $B $R --nq 16,64,256,1024 --precisions f32,f16 --variants "n:" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el def1m $?
export VARIANTS="$VR;$VH"
C32=$(node $D/pick.cjs $OUT/g1m.jsonl f32 2>> $OUT/info.txt); C16=$(node $D/pick.cjs $OUT/g1m.jsonl f16 2>> $OUT/info.txt)
echo "f32 $C32 / f16 $C16" | tee -a $OUT/info.txt
timeout 50 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 30 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants "d:;$C32" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m32 $?
timeout 25 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f16 --min-ms 0 --max-reps 3 --variants "d:;$C16" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m16 $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; node $D/floor.mjs $OUT/g1m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cut -c1-300 $OUT/summary.txt | grep -v "^torch"; cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

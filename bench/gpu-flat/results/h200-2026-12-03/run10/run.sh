# H200 run 10 of bench/gpu-flat (one call), GPU timestamps unquantised (run.ts lifts Dawn's
# timestamp_quantization): (a) ceilings (read bandwidth) and the nq = 1 floor ratios (floor.mjs);
# flat_gemv with up to 16 words in flight a lane: f32 (r*: ru / uw / target) and f16 (h*: hru / huw
# / target, mergeOne) at nq 1 and 4; (b) f32 8x8w / 8x8s blocks with spread owners from 128 queries
# and their targets (w*, s*) at nq 256 / 1024; (c) f16 blocks through the f32 class knobs (c*:
# f16Cls) at nq 16..1024; then each precision's picks (pick.cjs) against the defaults at 21M.
# torch fp32 / fp16 in the same call. Bundle: out/gf10/gpu-flat.mjs; carry .device, out/gf10.
set -o pipefail
D=out/gf10
B=$D/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 40 python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
R="--n 1000000 --min-ms 200 --max-reps 40 --oracle-queries 1"
VR="d:;r2u6:ru=2,uw=6;r2u8:ru=2,uw=8;rt1k:target=1024;rt256:target=256;r2t1k:ru=2,uw=6,target=1024;rm1:mergeOne=1;d2:"
VH="d:;h23:hru=2,huw=3;h33:hru=3,huw=3;h43:hru=4,huw=3;h53:hru=5,huw=3;h24:hru=2,huw=4;h81:hru=8,huw=1;h23t1k:hru=2,huw=3,target=1024;h43t1k:hru=4,huw=3,target=1024;h43t256:hru=4,huw=3,target=256;h43m1:hru=4,huw=3,mergeOne=1;d2:"
VW="d:;w:bigF32L=8x8w;w264:bigF32L=8x8w,gtl=264;w66:bigF32L=8x8w,gtl=66;s66:gtl=66;s264:gtl=264;d2:"
VC="d:;c:f16Cls=1;c8s:f16Cls=1,bigF32=8x8s;ch:f16Cls=1,midF32=4x8h;c8w:f16Cls=1,bigF32L=8x8w;d2:"
timeout 45 node $B $R --ceilings 1 --nq 1,4 --precisions f32 --variants "$VR" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv32 $?
timeout 45 node $B $R --nq 1,4 --precisions f16 --variants "$VH" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el gemv16 $?
timeout 50 node $B $R --nq 256,1024 --precisions f32 --variants "$VW" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el big32 $?
timeout 50 node $B $R --nq 16,64,256,1024 --precisions f16 --variants "$VC" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el cls16 $?
export VARIANTS="$VR;$VH;$VW;$VC"
C32=$(node $D/pick.cjs $OUT/g1m.jsonl f32 2>> $OUT/info.txt); C16=$(node $D/pick.cjs $OUT/g1m.jsonl f16 2>> $OUT/info.txt)
echo "f32 $C32 / f16 $C16" | tee -a $OUT/info.txt
timeout 90 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 45 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants "d:;$C32" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m32 $?
timeout 40 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f16 --min-ms 0 --max-reps 3 --variants "d:;$C16" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m16 $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; node $D/floor.mjs $OUT/g1m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cut -c1-330 $OUT/summary.txt | grep -v "^torch"; grep ceilings $OUT/g1m.jsonl; cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"

# h73: flat_gemv_multi's two passes a workgroup (mpasses 1) against blocks first (the defaults: two
# workgroups a segment launched together) at 9-16 queries, f16 and f32, 1M and 21M; torch in the same call.
B=out/h73
source "$B/device-common.sh"
W=$OUT
V='d;p:mpasses=1;d2;p2:mpasses=1'
NQS=9,12,14,16
timeout 60 python3 $T --n 1000000 --d 768 --nq $NQS --k 10 --reps 10 --dtypes float16,float32 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 120 node $B/flat.mjs --n 1000000 --nq $NQS --precisions f16,f32 --experimental 0 --variants "$V" $F > $W/flat-1m.jsonl 2>>$W/logs.txt; el flat-1m $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m.jsonl
timeout 90 python3 $T --n $N21 --d 768 --nq $NQS --k 10 --reps 3 --chunk 4194304 --dtypes float16,float32 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout 150 node $B/flat.mjs --n $N21 --nq $NQS --precisions f16,f32 --experimental 0 --variants "$V" $G > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl
logs_tail
pack_results

# h72: f16 at half of f32's memory under allowExperimental (the conversion: tf16c=0), 16 and 64
# queries: its 32-row tiles against 16 and 64 (tf16rt 1 / 4) and 3-4 chunks in flight (tf16pfd),
# h69's tensor hook having 246 registers for a one-warp workgroup; torch fp16 in the same call.
B=out/h72
source "$B/device-common.sh"
W=$OUT
V='h:tf16c=0;r1:tf16c=0,tf16rt=1;r4:tf16c=0,tf16rt=4;p3:tf16c=0,tf16pfd=3;p4:tf16c=0,tf16pfd=4;h2:tf16c=0'
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,64 --k 10 --reps 10 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 120 node $B/flat.mjs --n 1000000 --nq 16,64 --precisions f16 --experimental 1 --variants "$V" $F > $W/flat-1m.jsonl 2>>$W/logs.txt; el flat-1m $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m.jsonl
timeout 60 python3 $T --n $N21 --d 768 --nq 16,64 --k 10 --reps 3 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout 150 node $B/flat.mjs --n $N21 --nq 16,64 --precisions f16 --experimental 1 --variants "$V" $G > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl
logs_tail
pack_results

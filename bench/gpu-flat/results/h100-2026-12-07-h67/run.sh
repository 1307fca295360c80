# Call h67: bench/gpu-flat/short.sh at 5d37667 (make-call.sh), its folder out/h67.
# A short device call (~4 min; for a session whose device time is short, or as its first call): the
# driver's pipeline statistics (with L, bench/shader-stats), f16 over 21M and 1M at 8-16 queries with
# the halves converted by unpack2x16float (c) against built from their bits (b: kernelTuning.hbits)
# and 8 rows a lane group (r8: hmru 8), beside torch fp16 at the same sizes, then int8 over 21M warm at 1 / 16 queries beside torch fp32
# while the BUDGET lasts. Built by: bash bench/gpu-flat/make-call.sh hN short, which prints the command.
B=out/h67
source "$B/device-common.sh"
W=${OUT:-/tmp/h67}; mkdir -p "$W"
if [ -n "$L" ]; then B=$B L=$L W=$W bash "$B/stats.sh" 2>&1 | tail -40; el stats 0; fi
BUDGET=${BUDGET:-300}
# c: today's f16 kernel; b: halves from their bits (hbits); r8: 8 rows a lane group (each query load
# serving 8 rows), with two words in flight or one (u1: fewer registers), and with the bits.
HV='c:hbits=0;b:hbits=1;r8:hmru=8;r8u1:hmru=8,hmuw=1;r8b:hmru=8,hbits=1'
tl() { local l=$((BUDGET-(SECONDS-S0))); [ $l -lt 1 ] && l=1; [ $l -lt $1 ] && echo $l || echo $1; }
timeout $(tl 60) python3 $T --n $N21 --d 768 --nq 8,9,12,16 --k 10 --reps 3 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout $(tl 80) node $B/flat.mjs --n $N21 --nq 8,9,12,16 --precisions f16 --experimental 0 --variants "$HV" $G > $W/flat-21m-hbits.jsonl 2>>$W/logs.txt; el flat-21m-hbits $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m-*.jsonl > $W/summary-21m.txt 2>&1; cat $W/summary-21m.txt
timeout $(tl 40) python3 $T --n 1000000 --d 768 --nq 8,9,12,16 --k 10 --reps 10 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout $(tl 50) node $B/flat.mjs --n 1000000 --nq 8,9,12,16 --precisions f16 --experimental 0 --variants "$HV" $F > $W/flat-1m-hbits.jsonl 2>>$W/logs.txt; el flat-1m-hbits $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl > $W/summary-1m.txt 2>&1; cat $W/summary-1m.txt
LEFT=$(tl $BUDGET)
if [ $LEFT -gt 100 ]; then
  timeout 40 python3 $T --n $N21 --d 768 --nq 1,16 --k 10 --reps 3 --chunk 4194304 --dtypes float32 2>>$W/logs.txt | grep '^{' > $W/torch-21m-f32.jsonl; el torch-21m-f32 $?
  python3 -c "$Q" < $W/torch-21m-f32.jsonl
  timeout $(tl $BUDGET) node $B/int8.mjs --n $N21 --host-rows gpu --nq 1,16 --variants 'warm:nq=1/16;gpu' --min-ms 300 --max-reps 10 --unquantised 1 > $W/int8-21m.jsonl 2>>$W/logs.txt; el int8-21m $?
  python3 -c "$I" < $W/int8-21m.jsonl
fi
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $W/logs.txt | cut -c1-300 | tail -6

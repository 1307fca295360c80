# Issue 4's grid (run as call h68 in session 38: bench/gpu-flat/results/h100-2026-12-07-h68; first as
# h66, whose script this grew from). Since h66: int8 over 21M warms each batch size first (h66
# measured 1 and 16 queries cold, right after the 156 s host read-back), and torch fp32 at 21M x 1024
# runs in its own process (it did not print in h66, after fp16 in the same process). Everything
# the steps write comes back as one results.tgz (pack_results).
# bash bench/gpu-flat/make-call.sh hN builds the call's folder out/hN (this script as run.sh with
# hN in place of h66, the gzipped bundles, helpers, commit, and the pipeline statistics layer:
# bench/shader-stats) and prints the device command:
#   gunzip out/hN/*.gz && source .device/setup.sh && L=out/hN/layer bash out/hN/run.sh
# With L the statistics run first (23 s in h67); ~360 s in all (GRID=1M or GRID=21M runs one half).
B=out/h66
source "$B/device-common.sh"
W=${OUT:-/tmp/h66}; mkdir -p "$W"
stats_first
NQ=1,9,12,14,16,64,256,1024
BUDGET=470  # seconds of script a call may take
if [ "$GRID" != 1M ]; then
  timeout $(tl 100) python3 $T --n $N21 --d 768 --nq 1,9,12,14,16,64,256 --k 10 --reps 3 --chunk 4194304 --dtypes float16,float32 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
  for dt in float16 float32; do timeout $(tl 60) python3 $T --n $N21 --d 768 --nq 1024 --k 10 --reps 2 --chunk 1048576 --dtypes $dt 2>>$W/logs.txt | grep '^{' >> $W/torch-21m.jsonl; el torch-21m-1024-$dt $?; done
  timeout $(tl 150) node $B/flat.mjs --n $N21 --nq $NQ --precisions f32,f16 --experimental 0 $G > $W/flat-21m-x0.jsonl 2>>$W/logs.txt; el flat-21m-x0 $?
  timeout $(tl 90) node $B/flat.mjs --n $N21 --nq 9,12,14 --precisions f32,f16 --experimental 0 --variants 'o:h16split=15,m16split=13,meven=0' $G > $W/flat-21m-old-split.jsonl 2>>$W/logs.txt; el flat-21m-old-split $?
  timeout $(tl 150) node $B/flat.mjs --n $N21 --nq 1,16,64,256,1024 --precisions f32,f16 --experimental 1 --variants 'c:tf16c=1;h:tf16c=0' $G > $W/flat-21m-x1.jsonl 2>>$W/logs.txt; el flat-21m-x1 $?
  node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m-*.jsonl > $W/summary-21m.txt 2>&1; cat $W/summary-21m.txt
fi
if [ "$GRID" != 21M ]; then
  timeout $(tl 90) python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 --dtypes float16,float32 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
  timeout $(tl 150) node $B/flat.mjs --n 1000000 --nq $NQ --precisions f32,f16 --experimental 0 $F > $W/flat-1m-x0.jsonl 2>>$W/logs.txt; el flat-1m-x0 $?
  timeout $(tl 150) node $B/flat.mjs --n 1000000 --nq 1,16,64,256,1024 --precisions f32,f16 --experimental 1 --variants 'c:tf16c=1;h:tf16c=0' --warm-ms 300 --min-ms 250 --max-reps 20 --oracle-queries 2 > $W/flat-1m-x1.jsonl 2>>$W/logs.txt; el flat-1m-x1 $?
  # f16 with allowExperimental at 13-16 queries, no code plane: the conversion (h) against flat_gemv_multi (m: f16MultiUpTo 16).
  timeout $(tl 90) node $B/flat.mjs --n 1000000 --nq 13,14,16 --precisions f16 --experimental 1 --variants 'h:tf16c=0;m:tf16c=0,tf16mu=16' $F > $W/flat-1m-x1-upto.jsonl 2>>$W/logs.txt; el flat-1m-x1-upto $?
  timeout $(tl 120) node $B/int8.mjs --n 1000000 --unquantised 1 --nq 1,16,64,256,1024 --min-ms 300 --max-reps 40 --variants 'warm:nq=64/256;d;d2' > $W/int8-1m.jsonl 2>>$W/logs.txt; el int8-1m $?
  node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl > $W/summary-1m.txt 2>&1; cat $W/summary-1m.txt
  python3 -c "$I" < $W/int8-1m.jsonl
fi
if [ "$GRID" != 1M ]; then
  LEFT=$(tl $BUDGET)
  if [ $LEFT -gt 120 ]; then timeout $LEFT node $B/int8.mjs --n $N21 --host-rows gpu --nq 1,16,64,256,1024 --variants 'warm:nq=1/16/64;gpu' --min-ms 300 --max-reps 10 --unquantised 1 > $W/int8-21m.jsonl 2>>$W/logs.txt; el int8-21m $?; fi
  python3 -c "$I" < $W/int8-21m.jsonl
fi
logs_tail
pack_results

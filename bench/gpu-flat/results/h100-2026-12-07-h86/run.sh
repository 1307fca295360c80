# RAN as call h86 (forty-second session, 2026-12-07 14:44-14:45 UTC, NVIDIA H100 80GB HBM3, bundle of 31dd430): output beside this file. Build its folder from the repository root:
#   mkdir -p out/h86 && node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h86/flat.mjs && gzip -9 out/h86/flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/results/h100-2026-12-07-h86/run.sh out/h86/   (it was prepared-h86/ then, with quick.sh, its first minutes)
# on the device (carry .device and out/h86): source .device/setup.sh && bash out/h86/run.sh
# Call h86: the f16 two-pass scan in the index (tensorTuning.f16Scan, src/gpu/tensor/half-scan.ts),
# first device run: f16 at exactly half of f32's memory (no code plane: tf16c=0) at 16 / 32 / 64
# queries over 1M and 21M, against today's route and torch fp16 in the same call.
B=out/h86
W=${OUT:-/tmp/h86}; mkdir -p $W
T=.device/torch_flat_baseline.py
N21=21015324
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 250 --max-reps 100"
G="--gpu-memory 78.5 --warm-ms 200 --min-ms 150 --max-reps 10"
TG=disable_robustness,vulkan_enable_f16_on_nvidia
el() { echo "$(date +%T) $1 rc=$2"; }
timeout 90 python3 $T --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 16,32,64 --precisions f16 --experimental 1 --toggles $TG --variants 'h:tf16c=0;s:tf16c=0,tf16scan=1;s384:tf16c=0,tf16scan=1,tf16sqc=384;s32:tf16c=0,tf16scan=1,tf16sd=32' $F --oracle-queries 2 > $W/flat-1m-scan.jsonl 2>>$W/logs.txt; el flat-1m-scan $?; node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-scan.jsonl 2>&1 | tee $W/summary-1m-scan.txt
timeout 120 node $B/flat.mjs --n 1000000 --nq 16,32,64 --precisions f16 --experimental 1 --toggles disable_robustness --variants 'h:tf16c=0' $F > $W/flat-1m-today.jsonl 2>>$W/logs.txt; el flat-1m-today $?
timeout 90 python3 $T --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' >> $W/torch-1m.jsonl; el torch-1m-again $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl > $W/summary-1m.txt 2>&1; cat $W/summary-1m.txt
timeout 120 python3 $T --n $N21 --d 768 --nq 16,32,64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout 200 node $B/flat.mjs --n $N21 --nq 16,32,64 --precisions f16 --experimental 1 --toggles $TG --variants 'h:tf16c=0;s:tf16c=0,tf16scan=1' $G > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl > $W/summary-21m.txt 2>&1; cat $W/summary-21m.txt
timeout 90 node $B/flat.mjs --n 1000000 --nq 16,64 --precisions f16 --experimental 1 --toggles vulkan_enable_f16_on_nvidia --variants 's:tf16c=0,tf16scan=1' $F > $W/flat-1m-scan-robust.jsonl 2>>$W/logs.txt; el flat-1m-scan-robust $?
grep -h "oracle" $W/flat-1m-scan.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('oracle', r.get('variant'), r.get('nq'), r.get('oracle_ok'), r.get('oracle_recall'))" 2>/dev/null
tail -n 15 $W/logs.txt

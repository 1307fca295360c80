# RAN as call h90 (forty-second session, 2026-12-07 15:50 UTC, NVIDIA H100 80GB HBM3, bundle of 0d16307 + the counts a line apart and the bench rows' scorer): output beside this file. Build its folder from the repository root:
#   mkdir -p out/h90 && node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h90/flat.mjs && gzip -9 out/h90/flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/results/h100-2026-12-07-h90/run.sh out/h90/
# on the device (carry .device and out/h90): source .device/setup.sh && bash out/h90/run.sh
# h89: the same scan kernel at 24-64 queries over 1M varied 0.82-1.40 ms from variant to variant
# (no overflows, the same scorer). Now each query's candidate count sits on a 128-byte line of its
# own (HALF_SCAN_COUNT_STRIDE): the library's defaults at half memory twice (a, b), one buffer (one),
# with a code plane (pd), and 21M; torch fp16 in the same call.
B=out/h90
W=${OUT:-/tmp/h90}; mkdir -p $W
T=.device/torch_flat_baseline.py
N21=21015324
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 250 --max-reps 100"
G="--gpu-memory 78.5 --warm-ms 200 --min-ms 150 --max-reps 10"
TG=vulkan_enable_f16_on_nvidia,disable_robustness
el() { echo "$(date +%T) $1 rc=$2"; }
timeout 60 python3 $T --n 1000000 --d 768 --nq 9,16,24,32,48,64 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 100 node $B/flat.mjs --n 1000000 --nq 9,16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --variants 'a:tf16scan=0;b:tf16scan=0;one:tf16sds=0' $F --oracle-queries 2 > $W/flat-1m-noplanes.jsonl 2>>$W/logs.txt; el flat-1m-noplanes $?
timeout 60 node $B/flat.mjs --n 1000000 --nq 24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --variants 'pd:tf16c=0,tf16scan=1' $F > $W/flat-1m-planes.jsonl 2>>$W/logs.txt; el flat-1m-planes $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl 2>&1 | tee $W/summary-1m.txt
timeout 100 python3 $T --n $N21 --d 768 --nq 9,16,24,32,48,64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout 150 node $B/flat.mjs --n $N21 --nq 9,16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 $G > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl 2>&1 | tee $W/summary-21m.txt
cat $W/flat-1m-*.jsonl $W/flat-21m.jsonl | grep '"gpu_ms"' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['n'], r.get('variant'), r['nq'], r['gpu_ms'], 'uncert', r.get('uncertified'), r.get('oracle_ok'), r.get('digit_gib'), r.get('scorer'))"
grep -v '^adapter' $W/logs.txt | grep -v 'deprecated\|\^\^\^\|subgroupMatrix\|^$\|^:' | tail -n 8

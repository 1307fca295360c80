# RAN as call h91 (forty-second session, 2026-12-07 15:54 UTC, NVIDIA H100 80GB HBM3, bundle of e8f6277): output beside this file. Build its folder from the repository root:
#   mkdir -p out/h91 && node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h91/flat.mjs && gzip -9 out/h91/flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/results/h100-2026-12-07-h91/run.sh out/h91/
# on the device (carry .device and out/h91): source .device/setup.sh && bash out/h91/run.sh
# h88-h90: over 1M the scan at 24-48 queries ran 0.82-0.97 ms in an index with a code plane planned
# and 0.96-1.69 without. Which part of the layout: the code plane asked for explicitly (--digit-planes 1),
# none with the rows in 3 tiles (--max-tile-gib 0.5), none as before; torch fp16 in the same call.
B=out/h91
W=${OUT:-/tmp/h91}; mkdir -p $W
T=.device/torch_flat_baseline.py
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 200 --max-reps 60"
TG=vulkan_enable_f16_on_nvidia,disable_robustness
el() { echo "$(date +%T) $1 rc=$2"; }
timeout 40 python3 $T --n 1000000 --d 768 --nq 24,32,48 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 40 node $B/flat.mjs --n 1000000 --nq 24,32,48 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --variants 'none:tf16scan=0' $F > $W/flat-none.jsonl 2>>$W/logs.txt; el none $?
timeout 40 node $B/flat.mjs --n 1000000 --nq 24,32,48 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --max-tile-gib 0.5 --variants 'tiles3:tf16scan=0' $F > $W/flat-tiles3.jsonl 2>>$W/logs.txt; el tiles3 $?
timeout 40 node $B/flat.mjs --n 1000000 --nq 24,32,48 --precisions f16 --experimental 1 --toggles $TG --digit-planes 1 --variants 'planes:tf16c=0,tf16scan=1' $F > $W/flat-planes.jsonl 2>>$W/logs.txt; el planes $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-*.jsonl 2>&1 | tee $W/summary-1m.txt
cat $W/flat-*.jsonl | grep '"gpu_ms"' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r.get('variant'), r['nq'], r['gpu_ms'], 'fill', r.get('fill_s'), 'tiles', r.get('tiles'), 'uncert', r.get('uncertified'), r.get('digit_gib'), r.get('scorer'))"

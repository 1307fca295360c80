# RAN as call h89 (forty-second session, 2026-12-07 15:44 UTC, NVIDIA H100 80GB HBM3, bundle of 0d16307 + the bench rows' scorer and f16 overflows): output beside this file. Build its folder from the repository root:
#   mkdir -p out/h89 && node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h89/flat.mjs && gzip -9 out/h89/flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/results/h100-2026-12-07-h89/run.sh out/h89/
# on the device (carry .device and out/h89): source .device/setup.sh && bash out/h89/run.sh
# h88 (library defaults, digitPlanes false) timed 24 / 32 queries over 1M at 1.069 / 1.039 ms where
# h87's knob variant `d` (a code plane planned, f16Codes off) took 0.824 / 0.829. Which difference?
# Each row now says its scorer and its queries searched again (overflows).
B=out/h89
W=${OUT:-/tmp/h89}; mkdir -p $W
T=.device/torch_flat_baseline.py
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 250 --max-reps 100"
TG=vulkan_enable_f16_on_nvidia,disable_robustness
el() { echo "$(date +%T) $1 rc=$2"; }
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,24,32,48,64 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 100 node $B/flat.mjs --n 1000000 --nq 16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --variants 'def:tf16scan=0;k:tf16scan=1;one:tf16sds=0' $F > $W/flat-1m-noplanes.jsonl 2>>$W/logs.txt; el flat-1m-noplanes $?
timeout 100 node $B/flat.mjs --n 1000000 --nq 16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --variants 'pd:tf16c=0,tf16scan=1' $F > $W/flat-1m-planes.jsonl 2>>$W/logs.txt; el flat-1m-planes $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl 2>&1 | tee $W/summary-1m.txt
cat $W/flat-1m-*.jsonl | grep '"gpu_ms"' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r.get('variant'), r['nq'], r['gpu_ms'], 'uncert', r.get('uncertified'), 'reps', r['reps'], r.get('digit_gib'), r.get('scorer'))"
grep -v '^adapter' $W/logs.txt | grep -v 'deprecated\|\^\^\^\|subgroupMatrix\|^$\|^:' | tail -n 8

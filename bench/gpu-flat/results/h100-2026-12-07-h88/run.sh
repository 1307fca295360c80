# RAN as call h88 (forty-second session, 2026-12-07 15:40-15:41 UTC, NVIDIA H100 80GB HBM3, bundle of a4eb95a): output beside this file. Build its folder from the repository root:
#   mkdir -p out/h88 && node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h88/flat.mjs && gzip -9 out/h88/flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/results/h100-2026-12-07-h88/run.sh out/h88/
# on the device (carry .device and out/h88): source .device/setup.sh && bash out/h88/run.sh
# The library's defaults for f16 at exactly half of f32's memory: allowExperimental, disableRobustness
# (so Dawn's vulkan_enable_f16_on_nvidia and f16TwoPass, as dawnFlags gives them), digitPlanes: false;
# no knobs. 1M and 21M at 1-1024 queries, torch fp16 in the same call; at 9 / 12 queries over 1M also
# the routes before the scan (tf16smin=13) and 3 scan workgroups an SM (tf16sw=396).
B=out/h88
W=${OUT:-/tmp/h88}; mkdir -p $W
T=.device/torch_flat_baseline.py
N21=21015324
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 250 --max-reps 100"
G="--gpu-memory 78.5 --warm-ms 200 --min-ms 150 --max-reps 10"
TG=vulkan_enable_f16_on_nvidia,disable_robustness
el() { echo "$(date +%T) $1 rc=$2"; }
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,4,8,9,12,16,24,32,48,64,128,256,1024 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 150 node $B/flat.mjs --n 1000000 --nq 1,4,8,9,12,16,24,32,48,64,128,256,1024 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 $F --oracle-queries 2 > $W/flat-1m.jsonl 2>>$W/logs.txt; el flat-1m $?
timeout 60 node $B/flat.mjs --n 1000000 --nq 9,12 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --variants 'def:tf16scan=0;m13:tf16smin=13;g396:tf16sw=396' $F > $W/flat-1m-small.jsonl 2>>$W/logs.txt; el flat-1m-small $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m.jsonl $W/flat-1m-small.jsonl 2>&1 | tee $W/summary-1m.txt
timeout 150 python3 $T --n $N21 --d 768 --nq 1,9,16,32,48,64,256,1024 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout 200 node $B/flat.mjs --n $N21 --nq 1,9,16,32,48,64,256,1024 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 $G > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl 2>&1 | tee $W/summary-21m.txt
grep -h '"oracle' $W/flat-1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('oracle', r.get('nq'), r.get('oracle_ok'), r.get('oracle_recall'), r.get('base_gib'), r.get('digit_gib'))" 2>/dev/null
grep -v '^adapter' $W/logs.txt | grep -v 'deprecated\|\^\^\^\|subgroupMatrix\|^$\|^:' | tail -n 15

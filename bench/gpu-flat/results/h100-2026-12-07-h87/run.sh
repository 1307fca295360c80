# RAN as call h87 (forty-second session, 2026-12-07 15:08-15:10 UTC, NVIDIA H100 80GB HBM3, bundle of ae4db87): output beside this file. Build its folder from the repository root:
#   mkdir -p out/h87 && node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h87/flat.mjs && gzip -9 out/h87/flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/results/h100-2026-12-07-h87/run.sh out/h87/
# on the device (carry .device and out/h87): source .device/setup.sh && bash out/h87/run.sh
# h86 timed the f16 two-pass scan in the index: 1.02x / 0.94x / 1.00x torch fp16 at 16 / 32 / 64 over 1M,
# 1.07x / 0.96x / 1.06x over 21M. This call: its shapes at 16-64 queries (two query buffers tf16sds,
# warps tf16swp, workgroups tf16sw, steps ahead tf16sa, query chunk tf16sqc), 21M, robustness on, and
# what Dawn's vulkan_enable_f16_on_nvidia toggle does to the default f16 route (code plane) elsewhere.
B=out/h87
W=${OUT:-/tmp/h87}; mkdir -p $W
T=.device/torch_flat_baseline.py
N21=21015324
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 250 --max-reps 100"
G="--gpu-memory 78.5 --warm-ms 200 --min-ms 150 --max-reps 10"
TG=disable_robustness,vulkan_enable_f16_on_nvidia
el() { echo "$(date +%T) $1 rc=$2"; }
timeout 90 python3 $T --n 1000000 --d 768 --nq 9,16,24,32,48,64 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --variants 'h:tf16c=0;s:tf16c=0,tf16scan=1;d:tf16c=0,tf16scan=1,tf16sds=1;d4:tf16c=0,tf16scan=1,tf16sds=1,tf16swp=4,tf16sw=528;w4:tf16c=0,tf16scan=1,tf16swp=4,tf16sw=528;w16:tf16c=0,tf16scan=1,tf16swp=16,tf16sw=132;a4d:tf16c=0,tf16scan=1,tf16sa=4,tf16sqc=64,tf16sds=1;a4:tf16c=0,tf16scan=1,tf16sa=4;g396:tf16c=0,tf16scan=1,tf16sw=396' $F --oracle-queries 2 > $W/flat-1m-shapes.jsonl 2>>$W/logs.txt; el flat-1m-shapes $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-shapes.jsonl 2>&1 | tee $W/summary-1m-shapes.txt
timeout 120 python3 $T --n $N21 --d 768 --nq 9,16,32,64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout 200 node $B/flat.mjs --n $N21 --nq 9,16,32,64 --precisions f16 --experimental 1 --toggles $TG --variants 's:tf16c=0,tf16scan=1;d:tf16c=0,tf16scan=1,tf16sds=1;a4d:tf16c=0,tf16scan=1,tf16sa=4,tf16sqc=64,tf16sds=1;w4:tf16c=0,tf16scan=1,tf16swp=4,tf16sw=528' $G > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl 2>&1 | tee $W/summary-21m.txt
timeout 90 node $B/flat.mjs --n 1000000 --nq 16,32,64 --precisions f16 --experimental 1 --toggles vulkan_enable_f16_on_nvidia --variants 'h:tf16c=0;s:tf16c=0,tf16scan=1;d:tf16c=0,tf16scan=1,tf16sds=1' $F > $W/flat-1m-robust.jsonl 2>>$W/logs.txt; el flat-1m-robust $?
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,4,8,128,256,1024 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' >> $W/torch-1m.jsonl; el torch-1m-more $?
timeout 150 node $B/flat.mjs --n 1000000 --nq 1,4,8,16,64,256,1024 --precisions f16 --experimental 1 --toggles $TG --variants 'def:tf16scan=0;c:tf16h=0;sc:tf16scan=1' $F > $W/flat-1m-f16toggle.jsonl 2>>$W/logs.txt; el flat-1m-f16toggle $?
timeout 120 node $B/flat.mjs --n 1000000 --nq 1,4,8,16,64,256,1024 --precisions f16 --experimental 1 --toggles disable_robustness --variants 'def:tf16scan=0' $F > $W/flat-1m-notoggle.jsonl 2>>$W/logs.txt; el flat-1m-notoggle $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl > $W/summary-1m.txt 2>&1; cat $W/summary-1m.txt
grep -h '"oracle' $W/flat-1m-shapes.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('oracle', r.get('variant'), r.get('nq'), r.get('oracle_ok'), r.get('oracle_recall'))" 2>/dev/null
grep -v '^adapter' $W/logs.txt | tail -n 15

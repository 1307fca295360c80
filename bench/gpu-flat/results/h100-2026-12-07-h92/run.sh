# RAN as call h92 (forty-third session, 2026-12-07 18:01 UTC, NVIDIA H100 80GB HBM3, driver 580.159.04, bundle of b461f41, 85 s): output beside this file. Built as below.
#   mkdir -p out/h92 && node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h92/flat.mjs && gzip -9 out/h92/flat.mjs
#   cp bench/gpu-flat/summary.mjs bench/gpu-flat/device-common.sh bench/gpu-flat/results/prepared-h92/run.sh out/h92/
#   git rev-parse --short HEAD > out/h92/COMMIT
# on the device (carry .device and out/h92): source .device/setup.sh && bash out/h92/run.sh
# h88-h91: over 1M the f16 two-pass scan at 24-48 queries ran 0.82-0.97 ms in some runs and up to
# 1.69 in others (the same scorer, no overflow). This call times each dispatch (--step-times 1: a
# compute pass each) in three identical variants and two indexes, to see which step the slow mode is;
# then the scan with groups of 2 / 4 blocks a warp (tf16sg) against the default, over 1M and 21M, and
# over 21M the sample from the first tile only (st1, as through h91) against the spread one (the default now).
B=out/h92
W=${OUT:-/tmp/h92}; mkdir -p $W
# T, N21, el, logs_tail and pack_results (every output file in one results.tgz: a call brings back 8 files at most).
source $B/device-common.sh
# the call has 600 s: each step gets at most what is left of 570 (tl), so the packing still runs.
BUDGET=570
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 200 --max-reps 60"
TG=vulkan_enable_f16_on_nvidia,disable_robustness
timeout $(tl 40) python3 $T --n 1000000 --d 768 --nq 16,24,32,48,64 --k 10 --reps 20 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
# The second process frees the batch scratch before each variant (--fresh-scratch 1): if the slow mode
# follows where the scratch lands, it changes between its identical variants and not the first's.
for i in 1 2; do
timeout $(tl 90) node $B/flat.mjs --n 1000000 --nq 16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --step-times 1 --fresh-scratch $((i-1)) --variants 'a:tf16scan=0;b:tf16scan=0;c:tf16scan=0' $F > $W/flat-1m-$i.jsonl 2>>$W/logs.txt; el flat-1m-$i $?
done
# Then groups of blocks a warp (f16ScanGroup: each staged query chunk serves 2 or 4 blocks), one pass a search.
timeout $(tl 120) node $B/flat.mjs --n 1000000 --nq 16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --variants 'whole:tf16scan=0;g2:tf16sg=2;g2a4:tf16sg=2,tf16sa=4;g4a4:tf16sg=4,tf16sa=4;whole2:tf16scan=0' $F > $W/flat-1m-groups.jsonl 2>>$W/logs.txt; el flat-1m-groups $?
timeout $(tl 120) python3 $T --n $N21 --d 768 --nq 16,24,32,48,64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout $(tl 200) node $B/flat.mjs --n $N21 --nq 16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --variants 'whole:tf16scan=0;g2:tf16sg=2;g2a4:tf16sg=2,tf16sa=4;st1:tf16sst=1' --gpu-memory 78.5 --warm-ms 200 --min-ms 150 --max-reps 10 > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl 2>&1 | tee $W/summary-21m.txt
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl 2>&1 | tee $W/summary-1m.txt
cat $W/flat-*.jsonl | grep '"gpu_ms"' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); s=r.get('step_ms') or {}
  print(r['n'], r.get('variant'), r['nq'], r['gpu_ms'], 'uncert', r.get('uncertified'), ' '.join(f'{k[:24]}={v}' for k,v in sorted(s.items(), key=lambda x: -x[1])[:6]))"
logs_tail
pack_results

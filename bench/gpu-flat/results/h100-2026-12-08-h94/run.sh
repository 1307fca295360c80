# Call h94: bench/gpu-flat/results/prepared-h94/run.sh at 8704dfc (make-call.sh), its folder out/h94.
# NOT RUN (sessions 43-45: starts failed; session 45's one short call, h93, ran only results/h100-2026-12-07-h93/run.sh). Build its folder at HEAD:
#   bash bench/gpu-flat/make-call.sh h94 bench/gpu-flat/results/prepared-h94/run.sh
# on the device (carry .device and out/h94): source .device/setup.sh && bash out/h94/run.sh
# h92: the 1M "slow mode" was every kernel of the search running slower (prep, sample, threshold,
# merge_one up to 2x, the scan up to 4x), from the second batch size on: the GPU's clocks falling
# while one search at a time leaves it idle for the host's ~2 of ~3 ms. torch's baseline queues its
# repetitions back to back. This call keeps two searches in flight (--in-flight 2), at
# the new defaults (two blocks a warp from 17 queries, 4 steps ahead: 4-10% faster over 21M in h92)
# against one block (g1), the split sample (ss: f16ScanSampleSplit, a workgroup a sampled block) and the one tile's lists
# written in place without merge_one (dl: f16ScanDirectList), the selections' values held in registers (rh: f16ScanRadixHeld). Over 1M also 1-8 queries (the f16 kernels' sizes) and a few knobs at 9-16.
B=out/h94
W=${OUT:-/tmp/h94}; mkdir -p $W
source $B/device-common.sh
BUDGET=${BUDGET:-450}
gunzip -f $B/flat.mjs.gz
F="--warm-ms 400 --min-ms 250 --max-reps 100"
TG=vulkan_enable_f16_on_nvidia,disable_robustness
NQ=9,12,16,24,32,48,64
NQ1=1,4,8,$NQ
# LEAN=1 (a call with little device time left): 8-64 queries over 1M, the defaults against the new knobs only.
[ -n "$LEAN" ] && NQ1=8,$NQ
V='def:tf16scan=0;all:tf16sss=1,tf16sdl=1,tf16srh=9;ssdl:tf16sss=1,tf16sdl=1;ss:tf16sss=1;dl:tf16sdl=1;g1:tf16sg=1;def2:tf16scan=0'
[ -n "$LEAN" ] && V='def:tf16scan=0;all:tf16sss=1,tf16sdl=1,tf16srh=9;sr16:tf16ssr=16;allsr16:tf16sss=1,tf16sdl=1,tf16srh=9,tf16ssr=16;def2:tf16scan=0'
timeout $(tl 60) python3 $T --n 1000000 --d 768 --nq $NQ1 --k 10 --reps 50 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout $(tl 150) node $B/flat.mjs --n 1000000 --nq $NQ1 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --in-flight 2 --variants "$V" $F --oracle-queries 2 > $W/flat-1m-if2.jsonl 2>>$W/logs.txt; el flat-1m-if2 $?
# Knobs at 9-16 queries over 1M (the 0.94x / 0.98x at 9 / 12; h93: the sample's ~38 us follow neither its chain nor its size, so
# its blocks in runs of 16 or 64 (sr16, sr64: fewer pages touched)): the sample's size and workgroups, the scan's workgroups, steps ahead, two blocks a warp from 9.
timeout $(tl 80) node $B/flat.mjs --n 1000000 --nq 9,12,16 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --in-flight 2 --variants 'def:tf16scan=0;all:tf16sss=1,tf16sdl=1,tf16srh=9;sr16:tf16ssr=16;sr64:tf16ssr=64;allsr16:tf16sss=1,tf16sdl=1,tf16srh=9,tf16ssr=16;allsw:tf16sss=1,tf16sdl=1,tf16srh=9,tf16sw=396;rh:tf16srh=9;ssdl:tf16sss=1,tf16sdl=1;sssd256:tf16sss=1,tf16sd=256;sssd32:tf16sss=1,tf16sdl=1,tf16sd=32,tf16ssw=264;sd128:tf16sd=128;sd256:tf16sd=256;ssw66:tf16ssw=66;sw396:tf16sw=396;sa16:tf16sa=16;g2:tf16sgm=9;def2:tf16scan=0' $F > $W/flat-1m-knobs.jsonl 2>>$W/logs.txt; el flat-1m-knobs $?
timeout $(tl 120) python3 $T --n $N21 --d 768 --nq $NQ --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout $(tl 170) node $B/flat.mjs --n $N21 --nq $NQ --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --in-flight 2 --variants 'def:tf16scan=0;all:tf16sss=1,tf16sdl=1,tf16srh=9;def2:tf16scan=0' --gpu-memory 78.5 --warm-ms 300 --min-ms 200 --max-reps 8 > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
# One search at a time (as h88-h92 timed), the same defaults.
timeout $(tl 30) node $B/flat.mjs --n 1000000 --nq 16,24,32,48,64 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --variants 'one:tf16scan=0' $F > $W/flat-1m-if1.jsonl 2>>$W/logs.txt; el flat-1m-if1 $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl 2>&1 | tee $W/summary-21m.txt
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl 2>&1 | tee $W/summary-1m.txt
cat $W/flat-*.jsonl | grep '"gpu_ms"' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); s=r.get('step_ms') or {}
  print(r['n'], r.get('variant'), r['nq'], r['gpu_ms'], 'wall', r['wall_ms'], 'if', r.get('in_flight', 1), 'unc', r.get('uncertified'), r.get('oracle_ok'), ' '.join(f'{k[:20]}={v}' for k,v in sorted(s.items(), key=lambda x: -x[1])[:7]))"
logs_tail
pack_results

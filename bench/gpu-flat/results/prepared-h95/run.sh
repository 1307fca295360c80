# h95 (session 46; NOT RUN: the device was paused after h94): h94 found in-place lists (f16ScanDirectList)
# 10 us faster over 1M at 9-48 queries, and 528 scan workgroups (4 an SM) 0.667 ms at 9 against torch
# fp16's 0.648 (0.97x); at 32 queries (two blocks a warp) 528 lost (0.837 against 0.792). Both are the
# defaults since session 46 (528 for one block a warp: f16ScanWorkgroups; grouped blocks keep 264,
# f16ScanGroupWorkgroups). This call: over 1M at 9-16 the defaults against 264 / 462 / 594 workgroups,
# the sample's workgroups, the split sample and 4 steps ahead with 528; over 21M (not yet timed at 528)
# the defaults against 264 and 396, the split sample and the held values (h94's `all` 0.8% faster there).
B=out/h66
W=${OUT:-/tmp/h66}; mkdir -p $W
source $B/device-common.sh
BUDGET=${BUDGET:-450}
gunzip -f $B/flat.mjs.gz
F="--warm-ms 300 --min-ms 200 --max-reps 100"
TG=vulkan_enable_f16_on_nvidia,disable_robustness
NQ21=9,12,16; [ -n "$LEAN" ] && NQ21=9,16
X="--precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --in-flight 2"
V1='def:tf16scan=0;sw264:tf16sw=264;sw462:tf16sw=462;sw594:tf16sw=594;ssw264:tf16ssw=264;sss:tf16sss=1;sa4:tf16sa=4;nodl:tf16sdl=0;def2:tf16scan=0'
# sst4 / sst1: the sample over 4 of the 16 tiles / the first only (h92: the spread over 16 costs 1-2%, 16 small dispatches; h94's 21M at 9 queries 13.218 ms against h88's 12.970).
V21='def:tf16scan=0;sw264:tf16sw=264;sw396:tf16sw=396;all:tf16sss=1,tf16srh=9;sss:tf16sss=1;rh:tf16srh=9;sst4:tf16sst=4;sst1:tf16sst=1;def2:tf16scan=0'
# LEAN=1 (little device time left): the defaults against 264 workgroups; over 21M also the split sample and the sample over 4 tiles.
[ -n "$LEAN" ] && V1='def:tf16scan=0;sw264:tf16sw=264;def2:tf16scan=0' && V21='def:tf16scan=0;sw264:tf16sw=264;sss:tf16sss=1;sst4:tf16sst=4'
timeout $(tl 40) python3 $T --n 1000000 --d 768 --nq 9,12,16 --k 10 --reps 50 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout $(tl 90) node $B/flat.mjs --n 1000000 --nq 9,12,16 $X --variants "$V1" $F --oracle-queries 2 > $W/flat-1m.jsonl 2>>$W/logs.txt; el flat-1m $?
[ -z "$LEAN" ] && timeout $(tl 40) node $B/flat.mjs --n 1000000 --nq 9 $X --step-times 1 --variants 'def:tf16scan=0;sw264:tf16sw=264' --warm-ms 200 --min-ms 150 --max-reps 60 > $W/steps-1m.jsonl 2>>$W/logs.txt; el steps-1m $?
timeout $(tl 40) python3 $T --n 1000000 --d 768 --nq 9,12,16 --k 10 --reps 50 --dtypes float16 2>>$W/logs.txt | grep '^{' >> $W/torch-1m.jsonl; el torch-1m-again $?
timeout $(tl 100) python3 $T --n $N21 --d 768 --nq $NQ21 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
timeout $(tl 150) node $B/flat.mjs --n $N21 --nq $NQ21 $X --variants "$V21" --gpu-memory 78.5 --warm-ms 300 --min-ms 200 --max-reps 8 > $W/flat-21m.jsonl 2>>$W/logs.txt; el flat-21m $?
node $B/summary.mjs $W/torch-21m.jsonl $W/flat-21m.jsonl 2>&1 | cut -c1-200 | tee $W/summary-21m.txt
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m.jsonl 2>&1 | cut -c1-200 | tee $W/summary-1m.txt
python3 -c "$Q" < $W/torch-1m.jsonl; python3 -c "$Q" < $W/torch-21m.jsonl
cat $W/flat-*.jsonl $W/steps-1m.jsonl | grep '"gpu_ms"' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); s=r.get('step_ms') or {}
  print(r['n'], r.get('variant'), r['nq'], r['gpu_ms'], 'unc', r.get('uncertified'), r.get('oracle_ok'), ' '.join(f'{k[:20]}={v}' for k,v in sorted(s.items(), key=lambda x: -x[1])[:7]))"
logs_tail
pack_results

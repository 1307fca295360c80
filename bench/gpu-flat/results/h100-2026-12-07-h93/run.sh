# A short call (little device time): 9 / 12 / 16 queries over 1M, the defaults against the three new knobs.
B=out/h93
W=${OUT:-/tmp/h93}; mkdir -p $W
source $B/device-common.sh
BUDGET=${BUDGET:-80}
gunzip -f $B/flat.mjs.gz
TG=vulkan_enable_f16_on_nvidia,disable_robustness
timeout $(tl 25) python3 $T --n 1000000 --d 768 --nq 9,12,16 --k 10 --reps 50 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
timeout $(tl 70) node $B/flat.mjs --n 1000000 --nq 9,12,16 --precisions f16 --experimental 1 --toggles $TG --digit-planes 0 --in-flight 2 --variants 'def:tf16scan=0;all:tf16sss=1,tf16sdl=1,tf16srh=9;def2:tf16scan=0' --warm-ms 300 --min-ms 200 --max-reps 100 > $W/flat-1m-if2.jsonl 2>>$W/logs.txt; el flat-1m-if2 $?
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-*.jsonl 2>&1 | tee $W/summary-1m.txt
cat $W/flat-*.jsonl | grep '"gpu_ms"' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); s=r.get('step_ms') or {}
  print(r['n'], r.get('variant'), r['nq'], r['gpu_ms'], 'wall', r['wall_ms'], 'unc', r.get('uncertified'), r.get('oracle_ok'))"
logs_tail
pack_results

# Lead's call "g6" (2026-12-04, third session): (1) int8_gemv's one-query workgroup target again
# now that the shared bounds cut the early selection (gt 396 / 660 / 792 / 1056 against the default
# 528; 1056 was 1.11x slower before the bounds, gpu-int8 call e1); (2) every few-query default at
# the commit in COMMIT (merge_one's loads from g5), int8 / f16 / f32 at 1-4 queries, back to back by
# nq1.ts, torch fp16 / fp32 in the same call.
# Bundle (clean worktree of the commit in out/g6/COMMIT; carry .device, out/g6):
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/g6/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g6/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g6}; mkdir -p $OUT
B=${B:-out/g6}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 80 python3 $T --n 1000000 --d 768 --nq 1,2,4 --k 10 --reps 20 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
V="warm;d;g396:gt=396;g660:gt=660;g792:gt=792;g1056:gt=1056;d2;g660b:gt=660;g792b:gt=792;g1056b:gt=1056;n2:nq=2;n4:nq=4;d3"
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m-int8 $?
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 0 --precisions f16,f32 --reps 40 --wall 0 --variants "warm;d;d2" >> $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m-float $?
V="warm;d;g1056:gt=1056;d2;g1056b:gt=1056"
timeout 120 node $B/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/nq1-21m.jsonl 2>> $OUT/logs.txt; el nq1-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['nq'], r['ms'])"
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-220
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-175
grep -h "rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

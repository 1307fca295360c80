# Lead's closing call "fin6" (2026-12-04, second session, ~13:15 UTC): the int8 defaults at the
# commit in COMMIT (after fin5: int8_gemv's shared bounds from one query, merge_one from the bound
# words), twice, against torch in the same call: 1-4 queries back to back by nq1.ts (1M and
# 21M), 1-1024 queries through the index by index-21m.ts (1M, recall@10, host rows in memory).
# f32 / f16 kernels did not change after fin5 (their figures there stand).
# Bundles (clean worktree of COMMIT; carry .device, out/fin6):
#   npx esbuild bench/gpu-tensor/index-21m.ts ... --outfile=out/fin6/int8.mjs
#   npx esbuild bench/gpu-int8/nq1.ts ... --outfile=out/fin6/nq1.mjs
#   (both with --bundle --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations)
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-fin6/run.sh
set -o pipefail
OUT=${OUT:-/tmp/fin6}; mkdir -p $OUT
B=${B:-out/fin6}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 80 python3 $T --n 1000000 --d 768 --nq 1,2,4,16,64,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 100 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants 'warm;d;n2:nq=2;n4:nq=4;d2;n2b:nq=2;n4b:nq=4' > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m $?
timeout 100 node $B/nq1.mjs --n 21015324 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants 'warm;d;n4:nq=4;d2;n4b:nq=4' > $OUT/nq1-21m.jsonl 2>> $OUT/logs.txt; el nq1-21m $?
timeout 100 node $B/int8.mjs --n 1000000 --unquantised 1 --nq 1,2,4,16,64,256,1024 --min-ms 300 --max-reps 40 --variants 'warm:nq=64/256;d;d2' > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; el int8-1m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -v '^{' $OUT/int8-1m.jsonl | grep -E '^(variant|[a-z0-9_]+ +[0-9]+ +[0-9]+ )' > $OUT/int8-1m.txt
grep -h . $OUT/torch1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['nq'], r['ms'])"
grep -h '"case":"ceilings"' $OUT/nq1-*.jsonl | cut -c1-200
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-110
cut -c1-100 $OUT/int8-1m.txt
grep -h "rror\|NOT-SAME" $OUT/logs.txt | head -8
cat $OUT/info.txt

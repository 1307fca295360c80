# Lead's call "g1" (2026-12-04, third session): (1) merge_one's one level from int8_gemv's bound
# words (mergeOneTuning.boundPairs, the shader's ONE) against the two levels (m1bound=0), 1-4
# queries at 1M and one at 21M, back to back by nq1.ts, alternating; (2) the 21M figures of issue 4
# not re-measured since flat_fused's last changes: f32 at 16-1024 queries, f16 at 64, torch fp32 /
# fp16 in the same call.
# Bundles (clean worktree of the commit in out/g1/COMMIT; carry .device, out/g1):
#   npx esbuild bench/gpu-int8/nq1.ts ... --outfile=out/g1/nq1.mjs
#   npx esbuild bench/gpu-flat/run.ts ... --outfile=out/g1/flat.mjs; bench/gpu-flat/summary.mjs copied
#   (both with --bundle --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g1}; mkdir -p $OUT
B=${B:-out/g1}
N21=21015324
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
V="warm;old:m1bound=0;one;old2:m1bound=0;one2;o2:nq=2,m1bound=0;n2:nq=2;o4:nq=4,m1bound=0;n4:nq=4;old3:m1bound=0;one3"
timeout 120 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m $?
V="warm;old:m1bound=0;one:m1bound=1000000000;old2:m1bound=0;one2:m1bound=1000000000"
timeout 120 node $B/nq1.mjs --n $N21 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/nq1-21m.jsonl 2>> $OUT/logs.txt; el nq1-21m $?
timeout 150 python3 $T --n $N21 --d 768 --nq 16,64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m-fp32 $?
timeout 60 python3 $T --n $N21 --d 768 --nq 64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 >> $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m-fp16 $?
timeout 200 node $B/flat.mjs --n $N21 --nq 16,64,256,1024 --ceilings 1 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 2 --variants 'w:;d:;d_2:' > $OUT/g21m.jsonl 2>> $OUT/logs.txt; el f32-21m $?
timeout 80 node $B/flat.mjs --n $N21 --nq 64 --precisions f16 --check-rows 4 --min-ms 0 --max-reps 3 --variants 'w:;d:;d_2:' >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el f16-21m $?
node $B/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/t21m.jsonl | cut -c1-130
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-220
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-170
cut -c1-300 $OUT/summary.txt
grep -h "self-search\|oracle of\|rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

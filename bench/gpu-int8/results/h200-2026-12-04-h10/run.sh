# Lead's call "h10" (2026-12-04, fourth session): one query at the closing defaults against both
# memory floors: the read-kernel ceiling (bench/gpu-flat/ceilings.ts, nq1.ts --ceil 1, as every
# earlier few-query figure) and the device's D2D copy bandwidth through PyTorch, bytes read plus
# written (bench/gpu-flat/torch_copy_bandwidth.py: METHOD.md's memory ceiling, issue 4's "measured
# copy bandwidth"); torch fp16 / fp32 at one query in the same call.
# Bundle (clean worktree of out/h10/COMMIT): npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h10/nq1.mjs;
#   bench/gpu-flat/torch_copy_bandwidth.py copied
# On the device: source .device/setup.sh && bash out/h10/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h10}; mkdir -p $OUT
B=${B:-out/h10}
N21=21015324
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $B/torch_copy_bandwidth.py --gib 2 --reps 30 --n 1000000,$N21 > $OUT/copy.jsonl 2>> $OUT/logs.txt; el copy $?
timeout 60 python3 $T --n 1000000 --d 768 --nq 1 --k 10 --reps 20 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants 'warm;d;d2;d3' > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m-int8 $?
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 0 --precisions f16,f32 --reps 40 --wall 0 --variants 'warm;d;d2' >> $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m-float $?
timeout 120 node $B/nq1.mjs --n $N21 --ceil 1 --precisions int8 --reps 10 --wall 0 --variants 'warm;d;d2' > $OUT/nq1-21m.jsonl 2>> $OUT/logs.txt; el nq1-21m $?
timeout 60 python3 $B/torch_copy_bandwidth.py --gib 2 --reps 30 --n 1000000,$N21 >> $OUT/copy.jsonl 2>> $OUT/logs.txt; el copy2 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/copy.jsonl
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '"case":"ceilings"' $OUT/nq1-*.jsonl | cut -c1-250
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-140
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

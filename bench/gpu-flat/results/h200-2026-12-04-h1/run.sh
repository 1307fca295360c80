# Lead's call "h1" (2026-12-04, fourth session): f16 through the tensor cores (rows quantised to i8
# while staged, k' = 40 re-ranked exactly from the f16 rows on the GPU) against the f16 kernels
# (variant x: tensorTuning.f16 off) and torch fp16 in the same call; 1M at 8-1024 queries, 21M at
# 16 / 64 / 256. ids_as_first: queries whose 10 ids equal variant x's (the exact f16 answer).
# Bundle (clean worktree of the commit in out/h1/COMMIT; carry .device, out/h1):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/h1/flat.mjs; bench/gpu-flat/summary.mjs copied
# On the device: source .device/setup.sh && bash out/h1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h1}; mkdir -p $OUT
B=${B:-out/h1}
N21=21015324
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,8,9,12,16,32,64,256,1024 --k 10 --reps 10 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 120 python3 $T --n $N21 --d 768 --nq 16,64,256 --k 10 --reps 3 --chunk 4194304 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 180 node $B/flat.mjs --n 1000000 --nq 8,9,12,16,32,64,256,1024 --precisions f16 --experimental 1 --min-ms 200 --max-reps 20 --oracle-queries 2 --variants 'x:tf16=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-1m $?
timeout 200 node $B/flat.mjs --n $N21 --nq 16,64,256 --precisions f16 --experimental 1 --min-ms 0 --max-reps 3 --variants 'x:tf16=0;d:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-21m $?
node $B/summary.mjs $OUT/torch.jsonl $OUT/flat.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'), 'first', r['first_ms'], 'temp', r['temp_gib'])"
cut -c1-300 $OUT/summary.txt | head -40
grep -h "rror\|adapter" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

# Lead's call "q1" (2026-12-04, seventh session): f32 at 21M planned for an 80 GB H100 (--gpu-memory
# 79.6: digit planes for 19 of 31 tiles), 9-32 queries: the f32 kernels alone below f32PartialMinBatch
# (32, the default) against the mix from 9 queries (tf32pm=9) now that the exact tiles select the
# caller's k; torch fp32 in the same call. Twice each, alternating.
# Bundle (clean worktree of out/q1/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/q1/flat.mjs
# On the device: source .device/setup.sh && bash out/q1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/q1}; mkdir -p $OUT
B=${B:-out/q1}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 120 python3 $T --n 21015324 --d 768 --nq 9,12,16,20,24,32 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 300 node $B/flat.mjs --n 21015324 --nq 9,12,16,20,24,32 --precisions f32 --experimental 1 --gpu-memory 79.6 --warm-ms 1000 --min-ms 0 --max-reps 3 --variants 'd1:;m1:tf32pm=9;d2:;m2:tf32pm=9' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-21m-80g $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'unc', r.get('uncertified'), 'ids', r.get('ids_as_first'), 'base', r['base_gib'], 'temp', r['temp_gib'], 'digits', r.get('digit_gib'), r.get('digit_tiles'), '/', r.get('tiles'))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

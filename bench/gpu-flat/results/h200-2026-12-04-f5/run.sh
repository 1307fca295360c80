# Lead's call "f5" (2026-12-04, fifth session): the f32 grid at the closing defaults (tensor path from
# 9 queries, 64-row tiles from 64, digit planes in the plan) through the index, x = the f32 kernels,
# at 1M and 21M, torch fp32 in the same call (--chunk 4194304 at 21M); at 1M also two targets for
# the 64-row tiles at 256 / 1024 queries (b1 / b2).
# Bundle (clean worktree of out/f5/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f5/flat.mjs
# On the device: source .device/setup.sh && bash out/f5/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f5}; mkdir -p $OUT
B=${B:-out/f5}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,9,16,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 1,9,16,64,256,1024 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tf32=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-1m $?
timeout 120 node $B/flat.mjs --n 1000000 --nq 256,1024 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --variants 'd:;b1:twb=1024;b2:twb=2048' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-1m-targets $?
timeout 100 python3 $T --n 21015324 --d 768 --nq 16,64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 220 node $B/flat.mjs --n 21015324 --nq 16,64,256,1024 --precisions f32 --experimental 1 --warm-ms 1000 --min-ms 0 --max-reps 3 --check-rows 4 --variants 'x:tf32=0;d:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r['first_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'unc', r.get('uncertified'), 'temp', r['temp_gib'], 'base', r['base_gib'])"
grep -h "rror\|self-search" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

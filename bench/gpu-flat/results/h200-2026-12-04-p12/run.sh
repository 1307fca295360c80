# Lead's call "p12" (2026-12-04, sixth session): f32 at 21M planned for an 80 GB H100 (--gpu-memory
# 79.6: digit planes for 19 of 31 tiles) after the exact tiles select the caller's k (lists widened
# to k' by list_widen.wgsl), nq 16 / 32 / 64 / 256 / 1024, twice, torch fp32 in the same call.
# Bundle (clean worktree of out/p12/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/p12/flat.mjs
# On the device: source .device/setup.sh && bash out/p12/run.sh
set -o pipefail
OUT=${OUT:-/tmp/p12}; mkdir -p $OUT
B=${B:-out/p12}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 120 python3 $T --n 21015324 --d 768 --nq 16,32,64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 300 node $B/flat.mjs --n 21015324 --nq 16,32,64,256,1024 --precisions f32 --experimental 1 --gpu-memory 79.6 --warm-ms 1000 --min-ms 0 --max-reps 3 --variants 'x80:tensor=0;a80:;b80:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-21m-80g $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'unc', r.get('uncertified'), 'ids', r.get('ids_as_first'), 'base', r['base_gib'], 'temp', r['temp_gib'], 'digits', r.get('digit_gib'), r.get('digit_tiles'), '/', r.get('tiles'))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

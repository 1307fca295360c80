# Lead's call "f7" (2026-12-04, fifth session): the closing grid of f32 and f16 at the session's last
# commit (tensor cores with digit planes, allowExperimental), x = the portable kernels (tensor=0),
# 1M and 21M x 768, nq 1 / 2 / 4 / 16 / 64 / 256 / 1024 (2 / 4 at 1M only), torch fp32 and fp16 in the
# same call (--chunk 4194304 at 21M).
# Bundle (clean worktree of out/f7/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f7/flat.mjs
# On the device: source .device/setup.sh && bash out/f7/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f7}; mkdir -p $OUT
B=${B:-out/f7}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,2,4,16,64,256,1024 --k 10 --reps 10 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 1,2,4,16,64,256,1024 --precisions f32,f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tensor=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el grid-1m $?
timeout 150 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 3 --chunk 4194304 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 240 node $B/flat.mjs --n 21015324 --nq 1,16,64,256,1024 --precisions f32,f16 --experimental 1 --warm-ms 1000 --min-ms 0 --max-reps 3 --check-rows 4 --variants 'd:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el grid-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'rec', r.get('recall_vs_f32'), 'unc', r.get('uncertified'), 'temp', r['temp_gib'], 'base', r['base_gib'])"
grep -h "rror\|self-search" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

# Lead's call "f14" (2026-12-04, fifth session): call f13 again with dist_gap_vs_first (f13: 255/256 and 1018/1024 lists equal to the f32 kernels' at 256 / 1024 queries: ties or misses?); f32 on the tensor cores at k = 50 (k' capped at the
# lists' 64, certified) against the f32 kernels (x) and torch fp32 at k = 50, 1M x 768: speed and how
# many queries the certificate sends back.
# Bundle (clean worktree of out/f14/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f14/flat.mjs
# On the device: source .device/setup.sh && bash out/f14/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f14}; mkdir -p $OUT
B=${B:-out/f14}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,64,256,1024 --k 50 --reps 10 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 150 node $B/flat.mjs --n 1000000 --nq 16,64,256,1024 --k 50 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tensor=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-k50 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['k'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r['k'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'gk', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'gap', r.get('dist_gap_vs_first'), 'oracle', r.get('oracle_ok'), 'unc', r.get('uncertified'))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

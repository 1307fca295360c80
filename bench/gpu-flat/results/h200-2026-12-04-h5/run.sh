# Lead's call "h5" (2026-12-04, fourth session): after the f16 tensor-core path's host changes
# (lists sorted by insertion, each shard's k' cut to k before labels: wall time) and as a regression
# check of int8 (the hook's template changed: ROW_SHIFT), torch fp16 / fp32 in the same call.
# f16 `d` (defaults) and `x` (tensorTuning.f16 off) at 1M x 16 / 64 / 256 / 1024; int8 defaults at
# 1M x 1 / 16 / 64 / 256 / 1024 (recall_vs_f32 against f32 in the same process).
# Bundle (clean worktree of out/h5/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h5/flat.mjs
# On the device: source .device/setup.sh && bash out/h5/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h5}; mkdir -p $OUT
B=${B:-out/h5}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 300 node $B/flat.mjs --n 1000000 --nq 1,16,64,256,1024 --precisions f32,f16,int8 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 > $OUT/flat.jsonl 2>> $OUT/logs.txt; el flat-1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 16,64,256,1024 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --variants 'x:tf16=0;d:' > $OUT/f16.jsonl 2>> $OUT/logs.txt; el f16-1m $?
node $B/summary.mjs $OUT/torch.jsonl $OUT/flat.jsonl $OUT/f16.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
cat $OUT/flat.jsonl $OUT/f16.jsonl | grep -h '^{' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'recall', r.get('recall_vs_f32'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'), 'temp', r['temp_gib'])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

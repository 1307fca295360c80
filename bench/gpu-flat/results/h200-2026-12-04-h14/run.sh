# Lead's call "h14" (2026-12-04, fourth session): f16 on the tensor cores with 2 warps a workgroup
# from 256 queries (tensorTuning.f16Warps, calls h12-h13) through the index, against the f16
# kernels (variant x) and torch fp16 in the same call: 1M and 21M x 256 / 1024 queries, ids_as_first
# against x. Bundle (clean worktree of out/h14/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h14/flat.mjs
# On the device: source .device/setup.sh && bash out/h14/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h14}; mkdir -p $OUT
B=${B:-out/h14}
N21=21015324
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 256,1024 --k 10 --reps 10 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 90 python3 $T --n $N21 --d 768 --nq 256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 150 node $B/flat.mjs --n 1000000 --nq 256,1024 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --variants 'x:tf16=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-1m $?
timeout 200 node $B/flat.mjs --n $N21 --nq 256,1024 --precisions f16 --experimental 1 --warm-ms 1000 --min-ms 0 --max-reps 3 --variants 'x:tf16=0;d:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'temp', r['temp_gib'])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

# Lead's call "p6" (2026-12-04, sixth session): the closing defaults after allowExperimental gained
# vulkan_enable_f16_on_nvidia (shader-f16 on, so the f16 kernels decode halves natively and Dawn lists
# f16 configs; f16 keeps the code plane since the adapter lists i8): f16 at 1M nq 1-1024 (ids against
# the f16 kernels, tensor=0), f32 and int8 at 1M nq 16 / 64 / 1024; torch in the same call.
# Bundle (clean worktree of out/p6/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/p6/flat.mjs
# On the device: source .device/setup.sh && bash out/p6/run.sh
set -o pipefail
OUT=${OUT:-/tmp/p6}; mkdir -p $OUT
B=${B:-out/p6}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,2,4,8,16,32,64,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 1,2,4,8,16,32,64,256,1024 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tensor=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 16,64,1024 --precisions f32,int8 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'd:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-int8-1m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'recall', r.get('recall'), 'native', r.get('f16_native'), 'base', r['base_gib'])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

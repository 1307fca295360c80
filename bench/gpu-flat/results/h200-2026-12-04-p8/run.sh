# Lead's call "p8" (2026-12-04, sixth session): the closing defaults at the session's last commit
# (allowExperimental = allow_unsafe_apis alone again; f16 keeps the code plane on the H200): f16 at 1M
# nq 1-1024 (ids against the f16 kernels, tensor=0) and 21M nq 1 / 16 / 64; f32 at 1M nq 16 / 64 /
# 1024 and 21M nq 64; the f16 matrices once more at 1M (their toggle and f16HalfFirst); torch in the
# same call (--chunk 4194304 at 21M).
# Bundle (clean worktree of out/p8/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/p8/flat.mjs
# On the device: source .device/setup.sh && bash out/p8/run.sh
set -o pipefail
OUT=${OUT:-/tmp/p8}; mkdir -p $OUT
B=${B:-out/p8}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,2,4,8,16,32,64,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 150 node $B/flat.mjs --n 1000000 --nq 1,2,4,8,16,32,64,256,1024 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tensor=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-1m $?
timeout 100 node $B/flat.mjs --n 1000000 --nq 16,64 --precisions f16 --experimental 1 --toggles vulkan_enable_f16_on_nvidia --warm-ms 300 --min-ms 300 --max-reps 20 --variants 'half:tf16hf=1' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-half-1m $?
timeout 100 node $B/flat.mjs --n 1000000 --nq 16,64,1024 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'd:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-1m $?
timeout 100 python3 $T --n 21015324 --d 768 --nq 1,16,64 --k 10 --reps 3 --chunk 4194304 --dtypes float16,float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 150 node $B/flat.mjs --n 21015324 --nq 1,16,64 --precisions f16 --experimental 1 --warm-ms 1000 --min-ms 0 --max-reps 3 --variants 'd:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-21m $?
timeout 150 node $B/flat.mjs --n 21015324 --nq 64 --precisions f32 --experimental 1 --warm-ms 1000 --min-ms 0 --max-reps 3 --variants 'd:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'native', r.get('f16_native'), 'base', r['base_gib'], 'temp', r['temp_gib'])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

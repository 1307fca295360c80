# Lead's call "f9" (2026-12-04, fifth session): f16 from the code plane at 2-16 queries (0.93-0.99x
# torch fp16 at 2-9 in f6 / f8) with other workgroup targets (twt), 64-dim chunks (tkcs 64) and
# 64-row tiles (trt 4) at those batches; torch fp16 in the same call.
# Bundle (clean worktree of out/f9/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f9/flat.mjs
# On the device: source .device/setup.sh && bash out/f9/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f9}; mkdir -p $OUT
B=${B:-out/f9}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,8,16 --k 10 --reps 10 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 2,8,16 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --variants 'd:;t512:twt=512;t768:twt=768;t1584:twt=1584;t2048:twt=2048;kc64:tkcs=64;r1:trt=1;r4:trt=4;d2:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-few $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

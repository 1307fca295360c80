# Lead's call "f4" (2026-12-04, fifth session): f32 on the tensor cores through the index at 1M after
# call f3 (whose 1M run stopped at an unknown knob): variants x = the f32 kernels, d = defaults
# (tensor from 9 queries), r4 = 64-row tiles, w2 = two warps, tb = 1024 workgroups from 256
# queries, tb2 = 2048, at 5-1024 queries; torch fp32 in the same call.
# Bundle (clean worktree of out/f4/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f4/flat.mjs
# On the device: source .device/setup.sh && bash out/f4/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f4}; mkdir -p $OUT
B=${B:-out/f4}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 8,9,12,16,64,128,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 120 node $B/flat.mjs --n 1000000 --nq 8,9,12,16 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tf32=0;d:;d2:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-1m-few $?
timeout 240 node $B/flat.mjs --n 1000000 --nq 64,128,256,1024 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tf32=0;d:;r4:tf32rt=4;w2:tf32w=2,tf32wf=0;tb:twb=1024;tb2:twb=2048;d2:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-1m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'unc', r.get('uncertified'), 'temp', r['temp_gib'])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

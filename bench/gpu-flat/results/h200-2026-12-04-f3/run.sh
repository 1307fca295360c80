# Lead's call "f3" (2026-12-04, fifth session): f32 on the int8 tensor cores from digit planes, 32-row
# tiles and one warp at every batch (after call f2), variants through the index at 1M (x = the f32
# kernels; r4 = 64-row tiles; w2 = two warps; tb = 1024 workgroups at big batches; m9 = from 9
# queries), the dispatch split, and 21M, torch fp32 in the same call.
# Bundles (clean worktree of out/f3/COMMIT): npx esbuild bench/gpu-tensor/split.ts | bench/gpu-flat/run.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f3/{split,flat}.mjs
# On the device: source .device/setup.sh && bash out/f3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f3}; mkdir -p $OUT
B=${B:-out/f3}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,64,128,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 200 node $B/flat.mjs --n 1000000 --nq 16,64,128,256,1024 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tf32=0;d:;r4:tf32rt=4;w2:tf32w=2,tf32wf=0;tb:twb=1024;m9:tf32min=9;d2:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-1m $?
timeout 100 node $B/split.mjs --precision f32 --n 1000000 --nq 16,64,256,1024 --reps 5 --variants 'd;m9:tf32min=9' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split-f32 $?
timeout 100 python3 $T --n 21015324 --d 768 --nq 16,64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 200 node $B/flat.mjs --n 21015324 --nq 16,64,256,1024 --precisions f32 --experimental 1 --warm-ms 1000 --min-ms 0 --max-reps 3 --check-rows 4 --variants 'x:tf32=0;d:;m9:tf32min=9' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-21m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'unc', r.get('uncertified'), 'temp', r['temp_gib'])"
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print(r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], r['key'][:44], '|', ' '.join('%s:%s' % (s['groups'], s['us']) for s in r['steps'])[:160])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

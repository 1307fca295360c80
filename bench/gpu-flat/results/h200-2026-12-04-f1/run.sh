# Lead's call "f1" (2026-12-04, fifth session): f32 on the int8 tensor cores (two digits a value,
# re-ranked from the f32 rows, certified exact; tensorTuning.f32) against the f32 kernels and
# torch fp32 in the same call, 1M x 768: the scoring split by dispatch (split.ts), then through the
# index (run.ts --experimental 1, variant x = the f32 kernels, ids_as_first against x).
# Bundles (clean worktree of out/f1/COMMIT): npx esbuild bench/gpu-tensor/split.ts | bench/gpu-flat/run.ts --bundle
#   --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f1/{split,flat}.mjs
# On the device: source .device/setup.sh && bash out/f1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f1}; mkdir -p $OUT
B=${B:-out/f1}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 150 node $B/split.mjs --precision f32 --n 1000000 --nq 16,32,64,128,256,512,1024 --reps 5 --variants 'd;rt4:tf32rt=4;w1:tf32w=1;x:tf32=0' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split-f32 $?
timeout 150 node $B/flat.mjs --n 1000000 --nq 16,64,256,1024 --precisions f32 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tf32=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-1m $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print(r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], r['key'][:40], '|', ' '.join('%s:%s' % (s['groups'], s['us']) for s in r['steps'])[:200])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'uncert', r.get('uncertified'), 'temp', r['temp_gib'])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

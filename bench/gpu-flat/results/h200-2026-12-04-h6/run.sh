# Lead's call "h6" (2026-12-04, fourth session): f16 through the tensor cores after the inverse
# steps' loads were hoisted (one set a staged chunk an invocation instead of four loads a code
# word), against the f16 kernels (variant x) and torch fp16 in the same call, 1M x 9-1024 and 21M x
# 16-1024 queries after 300-500 ms of untimed searches; ids_as_first: queries whose 10 ids equal
# variant x's. Split (bench/gpu-tensor/split.ts): f16 defaults (d) and one step for all dims (u) at
# 1M x 9-512; int8's defaults at 16-512 (regression check of the hook's template change, ROW_SHIFT).
# Bundles (clean worktree of out/h6/COMMIT; carry .device, out/h6): npx esbuild bench/gpu-flat/run.ts
#   and bench/gpu-tensor/split.ts --bundle --platform=node --format=esm --loader:.wgsl=text
#   --external:webgpu --ignore-annotations --outfile=out/h6/{flat,split}.mjs; bench/gpu-flat/summary.mjs copied
# On the device: source .device/setup.sh && bash out/h6/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h6}; mkdir -p $OUT
B=${B:-out/h6}
N21=21015324
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 90 python3 $T --n 1000000 --d 768 --nq 1,8,9,16,32,64,128,256,1024 --k 10 --reps 10 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 150 python3 $T --n $N21 --d 768 --nq 16,64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 150 node $B/split.mjs --precision f16 --n 1000000 --nq 9,16,32,64,128,256,512 --reps 5 --variants 'w;d;u:tf16u=1;d2' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split $?
timeout 100 node $B/split.mjs --precision int8 --n 1000000 --nq 16,64,256,512 --reps 5 --variants 'w;d' >> $OUT/split.jsonl 2>> $OUT/logs.txt; el split-int8 $?
timeout 240 node $B/flat.mjs --n 1000000 --nq 9,16,32,64,128,256,1024 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'x:tf16=0;d:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-1m $?
timeout 240 node $B/flat.mjs --n $N21 --nq 16,64,256,1024 --precisions f16 --experimental 1 --warm-ms 500 --min-ms 0 --max-reps 3 --variants 'x:tf16=0;d:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-21m $?
node $B/summary.mjs $OUT/torch.jsonl $OUT/flat.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print('split', r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], r['key'][-50:])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), r.get('oracle_recall'), 'first', r['first_ms'], 'temp', r['temp_gib'], 'base', r['base_gib'])"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

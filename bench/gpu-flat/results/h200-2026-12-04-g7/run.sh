# Lead's call "g7" (2026-12-04, third session): the cells of the grid (N in {1M, 21M} x
# nq in {1, 16, 64, 256, 1024}, each precision) with no figure at the current kernels: f16 at
# 256 / 1024 (1M and 21M), int8 at 16 over 21M (through the index, host rows regenerated for the
# re-rank, recall@10), torch in the same call.
# Bundles (clean worktree of the commit in out/g7/COMMIT; carry .device, out/g7):
#   npx esbuild bench/gpu-flat/run.ts ... --outfile=out/g7/flat.mjs
#   npx esbuild bench/gpu-tensor/index-21m.ts ... --outfile=out/g7/int8.mjs
#   (both with --bundle --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations);
#   bench/gpu-flat/summary.mjs copied
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-g7/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g7}; mkdir -p $OUT
B=${B:-out/g7}
N21=21015324
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 256,1024 --k 10 --reps 10 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 120 python3 $T --n $N21 --d 768 --nq 16,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m-fp16 $?
timeout 60 python3 $T --n $N21 --d 768 --nq 16 --k 10 --reps 5 --chunk 4194304 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m-fp32 $?
timeout 100 node $B/flat.mjs --n 1000000 --nq 256,1024 --ceilings 1 --precisions f16 --min-ms 200 --max-reps 20 --oracle-queries 2 --variants 'w:;d:;d_2:' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-1m $?
timeout 120 node $B/flat.mjs --n $N21 --nq 256,1024 --precisions f16 --check-rows 4 --min-ms 0 --max-reps 2 --variants 'w:;d:;d_2:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-21m $?
timeout 150 node $B/int8.mjs --n $N21 --unquantised 1 --nq 16 --host-rows regen --min-ms 0 --max-reps 5 --variants 'warm;d;d2' > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; el int8-21m $?
node $B/summary.mjs $OUT/torch.jsonl $OUT/flat.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-200
cut -c1-300 $OUT/summary.txt
grep -v '^{' $OUT/int8-21m.jsonl | head -20 | cut -c1-200
grep -h '"variant"' $OUT/int8-21m.jsonl | cut -c1-400
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cat $OUT/info.txt

# Lead's call "cl1" (2026-12-04 ~11:45 UTC): flat_fused without its measured-slower staging variants
# (DB 1 / DB 2, LAY 1 / 2, SVS removed: shader 615 -> 432 lines) against the kernel before (fin2's
# bundle of b612f02, the same kernels as 0bf1775), each twice in alternating processes, 1M x 768,
# k = 10, torch in the same call. Prediction: level (the removed code sat behind override
# constants that the defaults set to 0), within the runs' ~0.3 % spread.
# Bundles (carry .device, out/cl): out/cl/flat-old.mjs = out/fin2/flat.mjs; out/cl/flat-new.mjs =
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/cl/flat-new.mjs   (the commit in COMMIT)
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-cl1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/cl1}; mkdir -p $OUT
B=${B:-out/cl}
N1=${N1:-1000000}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 60 python3 $T --n $N1 --d 768 --nq 16,32,48,64,256,1024 --k 10 --reps 10 --dtypes float32,float16 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch $?
R="--n $N1 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants w:;d:"
for round in 1 2; do
  for v in old new; do
    timeout 90 node $B/flat-$v.mjs $R --nq 16,32,48,64,256,1024 --precisions f32 > $OUT/f32-$v$round.jsonl 2>> $OUT/logs.txt; el f32-$v$round $?
    timeout 60 node $B/flat-$v.mjs $R --nq 16,64 --precisions f16,int8 > $OUT/hi-$v$round.jsonl 2>> $OUT/logs.txt; el hi-$v$round $?
  done
done
for f in $OUT/f32-*.jsonl $OUT/hi-*.jsonl; do echo "== $(basename $f)"; node $B/summary.mjs $OUT/t1m.jsonl $f 2>&1 | grep -v '^torch' | cut -c1-140; done > $OUT/summary.txt
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
# One file for the eight runs (the device returns at most 8 files).
for f in $OUT/f32-*.jsonl $OUT/hi-*.jsonl; do echo "{\"file\":\"$(basename $f)\"}"; cat $f; done > $OUT/runs.jsonl && rm -f $OUT/f32-*.jsonl $OUT/hi-*.jsonl
grep -h . $OUT/t1m.jsonl | cut -c1-120
cat $OUT/summary.txt
grep -h "oracle of\|rror" $OUT/logs.txt | sort | uniq -c | head -8
cat $OUT/info.txt

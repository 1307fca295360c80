# Lead's call "f10" (2026-12-04, fifth session): 64-row tiles below midBatch (trt 4; call f9: f16 from
# the code plane 0.434 / 0.447 / 0.471 ms at 2 / 8 / 16 queries against 0.475 / 0.484 / 0.494) for
# int8 at 5-16 queries and f16 at 2-31, torch fp16 in the same call.
# Bundle: the same as f9 (out/f9/flat.mjs, commit in out/f10/COMMIT).
# On the device: source .device/setup.sh && bash out/f10/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f10}; mkdir -p $OUT
B=${B:-out/f10}; F=${F:-out/f9}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,4,5,8,9,12,16,24,31 --k 10 --reps 10 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 150 node $F/flat.mjs --n 1000000 --nq 2,4,9,12,24,31 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --variants 'd:;r4:trt=4' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16 $?
timeout 150 node $F/flat.mjs --n 1000000 --nq 5,8,16 --precisions int8 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --variants 'd:;r4:trt=4;d2:' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el int8 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'rec', r.get('recall_vs_f32'))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt

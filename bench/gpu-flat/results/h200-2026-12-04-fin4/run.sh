# Lead's call "fin4" (2026-12-04 ~11:10 UTC): the 21M figures this session's changes left unmeasured:
# f32 at 1 / 40 / 48 queries (6x8w blocks at 33-48 since kc4; nq 1 with merge_one order 2) and f16 at
# 1 / 16 (merge_one order 2), each twice, torch in the same call. Bundle: fin2's out/fin2/flat.mjs
# (the commit in COMMIT). On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-fin4/run.sh
set -o pipefail
OUT=${OUT:-/tmp/fin4}; mkdir -p $OUT
B=${B:-out/fin2}
N21=${N21:-21015324}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 100 python3 $T --n $N21 --d 768 --nq 1,40,48 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m-fp32 $?
timeout 60 python3 $T --n $N21 --d 768 --nq 1,16 --k 10 --reps 5 --chunk 4194304 --dtypes float16 >> $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m-fp16 $?
timeout 150 node $B/flat.mjs --n $N21 --nq 1,40,48 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants 'w:;d:;d_2:' > $OUT/g21m.jsonl 2>> $OUT/logs.txt; el f32-21m $?
timeout 100 node $B/flat.mjs --n $N21 --nq 1,16 --ceilings 1 --precisions f16 --check-rows 4 --min-ms 0 --max-reps 10 --variants 'w:;d:;d_2:' >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el f16-21m $?
node $B/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/t21m.jsonl | cut -c1-130
grep -h '"case":"ceilings"' $OUT/g21m.jsonl | cut -c1-250
cut -c1-400 $OUT/summary.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cat $OUT/info.txt

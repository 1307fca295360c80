# Lead's call "fin3" (2026-12-04 ~11:10 UTC): is fin2's slowdown (the int8 tensor scorer at 1M x 256,
# 2.3 ms of GPU time a search rising to 11.9 ms within one process, identical variants, recall 1.000,
# shared bounds on or off) the GPU lowering its clocks while it idles between searches? The host
# re-rank from regenerated rows takes ~50 ms a search, so the GPU is busy ~5 % of the time. SM clock,
# power and P-state sampled every 100 ms beside the same sequence (c1), then with the host rows in
# memory (c2: ~1 ms of host re-rank a search). Bundle: fin2's out/fin2/int8.mjs (same COMMIT).
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-fin3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/fin3}; mkdir -p $OUT
B=${B:-out/fin2}
V='warm;d1;d2;d3;d4;d5;d6;d7;d8'
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,pstate,utilization.gpu --format=csv,noheader -lms 100 > $OUT/clocks.csv 2>&1 &
SMI=$!
sleep 1
echo "c1 start $(date +%H:%M:%S.%N)" >> $OUT/info.txt
timeout 60 node $B/int8.mjs --n 1000000 --nq 256 --unquantised 1 --host-rows regen --min-ms 1500 --max-reps 8 --variants "$V" > $OUT/c1.jsonl 2> $OUT/c1.err; echo "c1 rc=$? $(date +%H:%M:%S.%N)" >> $OUT/info.txt
sleep 1
echo "c2 start $(date +%H:%M:%S.%N)" >> $OUT/info.txt
timeout 60 node $B/int8.mjs --n 1000000 --nq 256 --unquantised 1 --min-ms 1500 --max-reps 8 --variants "$V" > $OUT/c2.jsonl 2> $OUT/c2.err; echo "c2 rc=$? $(date +%H:%M:%S.%N)" >> $OUT/info.txt
sleep 1
kill $SMI
for c in c1 c2; do grep -h 'variant .* done\|int8 index' $OUT/$c.err > $OUT/$c.steps; grep -v '^{' $OUT/$c.jsonl | grep -E '^(variant|[a-z0-9_]+ +[0-9]+ +[0-9]+ )' | cut -c1-75 > $OUT/$c.txt; done
rm -f $OUT/c1.err $OUT/c2.err
cat $OUT/info.txt
for c in c1 c2; do echo "== $c"; cat $OUT/$c.txt $OUT/$c.steps; done
echo "== clocks (every 2nd sample)"; awk 'NR % 2 == 1' $OUT/clocks.csv | cut -d, -f1-6 | sed 's/^[0-9\/]* //' | cut -c1-70
# Dawn's deprecation-warning lines (compile logs) were dropped from c1 / c2.jsonl (and fin2's diag*.jsonl); every data line kept.

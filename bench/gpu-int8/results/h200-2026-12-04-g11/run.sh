# Lead's call "g11" (2026-12-04, third session): with disable_robustness one query at 1M is 0.003 ms
# over 1.25x the read floor (g10). Merge knobs there: merge_one's buffer (m1slots 512 / 2048), lists
# a workgroup (m1fan 20 / 24 / 44 / 48 against the default 32), int8_gemv's check spacing (ci 2 / 4);
# back to back by nq1.ts in one process with the toggle, alternating with the defaults.
# Bundle: out/g10/nq1.mjs (the commit in out/g10/COMMIT; carry .device, out/g10).
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-g11/run.sh
set -o pipefail
OUT=${OUT:-/tmp/g11}; mkdir -p $OUT
B=${B:-out/g10}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
V="warm;d;s512:m1slots=512;s2k:m1slots=2048;f20:m1fan=20;f24:m1fan=24;d2;f44:m1fan=44;f48:m1fan=48;ci2:ci=2;ci4:ci=4;d3;s2kb:m1slots=2048;f24b:m1fan=24;f44b:m1fan=44;d4"
timeout 150 node $B/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" --toggles disable_robustness > $OUT/nq1-1m.jsonl 2>> $OUT/logs.txt; el nq1-1m-norob $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h '"case":"ceilings"' $OUT/*.jsonl | cut -c1-200
grep -h -E '^(int8|f16|f32) ' $OUT/logs.txt | cut -c1-150
grep -h "rror\|NOT-SAME\|DIFF" $OUT/logs.txt | head -8
cat $OUT/info.txt

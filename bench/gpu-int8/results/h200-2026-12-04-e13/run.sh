# gpu-int8 call e13 (2026-12-04, second session): one query with shared bounds (shareOne=1) after
# 8b0ce71, each part deleted in turn (xpub / xfinal / xword / xapply / xleave) and pairs of them;
# 1M rows.
# Bundle (carry .device, out/e13), from a clean worktree of the commit in out/e13/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e13/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e13/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e13}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e13/COMMIT)" >> $INFO
V="warm;d;on:shareOne=1;xp:shareOne=1,patch=xpub;xf:shareOne=1,patch=xfinal;xw:shareOne=1,patch=xword;xa:shareOne=1,patch=xapply;xl:shareOne=1,patch=xleave;xpf:shareOne=1,patch=xpub+xfinal;xpw:shareOne=1,patch=xpub+xword;xwa:shareOne=1,patch=xword+xapply;xpfw:shareOne=1,patch=xpub+xfinal+xword;d2;on2:shareOne=1"
timeout 150 node out/e13/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | cut -c1-200 | head; true

# gpu-int8 call a1 (2026-12-04): where a one-query search's GPU time goes at 1M x 768 (issue 10's
# "1.25x the int8 read", issue 4's f16 nq = 1), and the first cuts: merge_one reading the lists'
# heads first with prefix sorts (mergeOneTuning.order 1, m1ord=0 is the previous kernel), one merge
# level (m1fan=1024), int8_gemv loading the next rows ahead (pf=1) at 512 / 528 / 396 workgroups.
# bench/gpu-int8/nq1.ts: gpu (the shard's pass), one / split / scan / merge (the same dispatches
# rebuilt: in one pass, each in its own pass, scan alone, merges alone), nop, read (the tile's bytes).
# Bundle (carry .device, out/a1), from a clean worktree of the commit in COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/a1/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-a1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/a1}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version)" >> $INFO
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1 --k 10 --reps 20 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm:pf=1;old:m1ord=0;d;pf:pf=1;one:m1fan=1024;pfone:pf=1,m1fan=1024;f16l:m1fan=16;f64l:m1fan=64;s2k:m1slots=2048"
V="$V;pf528:pf=1,gt=528;pf396:pf=1,gt=396;g528:gt=528;pfru1:pf=1,ru=1;old2:m1ord=0;d2;pf2:pf=1;one2:m1fan=1024"
timeout 150 node out/a1/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 40 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;old:m1ord=0;d;one:m1fan=1024;f16l:m1fan=16;old2:m1ord=0;d2;one2:m1fan=1024"
timeout 60 node out/a1/nq1.mjs --n 1000000 --precisions f16 --reps 40 --variants "$V" > $OUT/f16-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] f16 1M rc=$?" | tee -a $INFO
V="warm:pf=1;old:m1ord=0;d;pf:pf=1;pfone:pf=1,m1fan=4096;old2:m1ord=0;d2;pf2:pf=1"
timeout 150 node out/a1/nq1.mjs --n 21015324 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16) ' | cut -c1-330
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | head

# gpu-int8 call e5 (2026-12-04, second session): (1) why shared bounds slow the one-query scan:
# shareOne=1 with each part of the bounds' code kept but never run (nopublish / noapply /
# nowordread) or deleted (...code); (2) the new defaults (8-bit queries, bounds for 2-4 queries)
# against the old (qbits=16, share=0) at 1M x 1 / 2 / 4 queries with recall@10 (run.ts), and
# int8_gemv's 8- against 16-bit queries over 64 queries (tensor=0, maxb=64); (3) f16 / f32 nq = 1.
# torch fp16 / fp32 at nq 1, 2, 4 in the same call. GPU ms unquantised.
# Bundles (carry .device, out/e5), from a clean worktree of the commit in out/e5/COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e5/nq1.mjs   (run.ts the same, run.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e5/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e5}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/e5/COMMIT)" >> $INFO
timeout 60 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1,2,4,64 --k 10 --reps 30 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm;d;on:shareOne=1;a:shareOne=1,patch=nopublish+noapply+nowordread;b:shareOne=1,patch=nopublishcode+noapplycode+nowordcode;p:shareOne=1,patch=nopublishcode;ap:shareOne=1,patch=noapplycode;wc:shareOne=1,patch=nowordcode;pa:shareOne=1,patch=nopublishcode+noapplycode;np:shareOne=1,patch=nopublish;na:shareOne=1,patch=noapply;d2;on2:shareOne=1;b2:shareOne=1,patch=nopublishcode+noapplycode+nowordcode"
timeout 150 node out/e5/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
timeout 100 node out/e5/nq1.mjs --n 1000000 --precisions f16,f32 --reps 60 --wall 0 --variants "warm;d;d2" > $OUT/f16f32-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] f16/f32 1M rc=$?" | tee -a $INFO
timeout 200 node out/e5/run.mjs --n 1000000 --nq 1,2,4 --unquantised 1 --host-rows memory --min-ms 300 --variants "d;old:qbits=16,share=0;d2;old2:qbits=16,share=0" > $OUT/run-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] run 1M rc=$?" | tee -a $INFO
timeout 150 node out/e5/run.mjs --n 1000000 --nq 64 --unquantised 1 --host-rows memory --variants "g8:tensor=0,maxb=64;g16:tensor=0,maxb=64,qbits=16;d" > $OUT/recall64-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] recall 64 rc=$?" | tee -a $INFO
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-*.jsonl | cut -c1-400
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-150
cat $OUT/run-1m.jsonl $OUT/recall64-1m.jsonl | grep -h '^{' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  print(r.get('variant'), r.get('nq'), r.get('kernel'), 'gpu', r.get('gpu_ms'), 'wall', r.get('wall_ms'), 'recall', r.get('recall_at_10'), r.get('error',''))"
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

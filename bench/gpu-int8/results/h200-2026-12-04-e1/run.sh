# gpu-int8 call e1 (2026-12-04, second session): where int8_gemv's time goes at 1M x 1 query
# (patch=noselect / nodot / noxor: the rebuilt scan with one part edited out), knobs re-checked
# after sgs + 528 workgroups (qbits 8, ci 12 / 24, ru 1, lanes 8, 1056 workgroups), and the
# subgroup_sort refactor (9f37d9e) against the commit before it (29753d4, nq1-old.mjs) in
# alternating processes, int8 / f16 / f32 storage at nq = 1 (merge_one's sorts are in all three).
# Bundles (carry .device, out/e1), from clean worktrees of 33ecd1c (nq1.mjs) and 29753d4 (nq1-old.mjs):
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/e1/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-e1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/e1}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version)" >> $INFO
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1 --k 10 --reps 30 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm;d;ns:patch=noselect;nd:patch=nodot;nx:patch=noxor;qb8:qbits=8;qb8ns:qbits=8,patch=noselect;c12:ci=12;c24:ci=24;ru1:ru=1;l8:lanes=8;g1056:gt=1056;ru1g:ru=1,gt=1056;d2;ns2:patch=noselect;qb8b:qbits=8;d3"
timeout 150 node out/e1/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --wall 0 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
for r in 1 2; do
  for b in new old; do
    f=out/e1/nq1.mjs; [ $b = old ] && f=out/e1/nq1-old.mjs
    timeout 90 node $f --n 1000000 --precisions int8,f16,f32 --reps 60 --wall 0 --variants "warm;d;d2" > $OUT/ab-$b-$r.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] ab $b $r rc=$?" | tee -a $INFO
  done
done
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/int8-1m.jsonl | cut -c1-400
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | cut -c1-220
for f in $OUT/ab-*.jsonl; do echo "== $f"; grep -h '"case":"nq1"' $f | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  print(r.get('precision'), r.get('variant'), 'gpu', r.get('gpu_ms'), 'scan', r.get('scan_ms'), 'merge', r.get('merge_ms'), r.get('error',''))"; done
grep -h 'error' $OUT/*.jsonl | cut -c1-200 | head; true

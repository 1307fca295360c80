# Lead's call "p7" (2026-12-04, sixth session): int8 at 1M (nq 16 / 64 / 1024, GPU ms through run.ts)
# with the previous session's bundle (old.mjs, commit 2ad0902: allowExperimental = allow_unsafe_apis)
# and this session's (new.mjs, 5942c05: + vulkan_enable_f16_on_nvidia), alternating, twice each:
# did call p6's int8 rows (2.8 / 42 ms at 64 / 1024 against fin2's 0.83 / 8.5) come from the toggle?
OUT=${OUT:-/tmp/p7}; mkdir -p $OUT
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
for i in 1 2; do for b in old new; do
  timeout 100 node out/p7/$b.mjs --n 1000000 --nq 16,64,1024 --precisions int8 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --variants "$b$i:" >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el $b$i $?
done; done
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'))"

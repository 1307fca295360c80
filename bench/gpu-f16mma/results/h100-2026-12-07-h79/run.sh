# Call h79: scan2 with real k' lists (sel L: a threshold a query, candidates appended, the owner
# inserting) against the threshold stand-in; correctness against float64 first, then timing.
OUT=${OUT:-/tmp/h79}; mkdir -p $OUT
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
echo "== check (kp 40)"
timeout 150 node out/h75/scan2.mjs --n 1000000 --nq 16,64 --robust 0 --reps 2 --variants 'reg:8:1:s:8:264:L,reg:8:1:s:4:264:L:128' 2>&1 | grep '"ms"\|error' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r.get('variant'), r.get('nq'), r.get('lists'), r.get('error','')[:300])"
echo "== timing"
S16='reg:8:1:s:8:264,reg:8:1:s:8:264:L,reg:8:1:s:4:264:L,reg:8:1:s:2:264:L'
S64='reg:8:1:s:4:264:q:128,reg:8:1:s:4:264:L:128,reg:8:1:s:8:264:L:128,reg:4:1:s:4:528:L:128,reg:8:1:s:4:264:L:192'
for pass in 1 2; do
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --check 0 --variants $S16 2>&1 | grep '"ms"\|skipped' >> $OUT/scan.jsonl
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --check 0 --variants $S64 2>&1 | grep '"ms"\|skipped' >> $OUT/scan.jsonl
done
timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --check 0 --kp 16 --variants 'reg:8:1:s:4:264:L:128,reg:8:1:s:4:264:L:192' 2>&1 | grep '"ms"\|skipped' | sed 's/"variant":"/"variant":"kp16 /' >> $OUT/scan.jsonl
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
python3 - $OUT/scan.jsonl <<'PY'
import sys, json, collections
by = collections.defaultdict(list)
for l in open(sys.argv[1]):
  r = json.loads(l)
  if 'skipped' in r: by[(r['variant'], r['nq'])].append(r['skipped']); continue
  key = ('read', '') if r.get('kind') == 'read' else (r['variant'], r['nq'])
  by[key].append(round(r['ms'], 3))
for k, v in by.items(): print(k, v)
PY

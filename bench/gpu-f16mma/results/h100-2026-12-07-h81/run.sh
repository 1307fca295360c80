# Call h81: how much of the lists' cost is the owners' rescans on overflow? Candidates a query a tile
# 16 (h79-h80) against 64 and 128, workgroup-memory lists (L) and register lists (R).
OUT=${OUT:-/tmp/h81}; mkdir -p $OUT
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
for C in 16 64 128; do
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --check 0 --cand $C --variants 'reg:8:1:s:8:264,reg:8:1:s:8:264:L,reg:8:1:s:8:264:R' 2>&1 | grep '"ms"\|skipped\|error' | sed "s/\"variant\":\"/\"variant\":\"c$C /" >> $OUT/scan.jsonl
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 64 --robust 0 --check 0 --cand $C --variants 'reg:8:1:s:4:264:q:128,reg:8:1:s:4:264:L:128,reg:8:1:s:4:264:R:128' 2>&1 | grep '"ms"\|skipped\|error' | sed "s/\"variant\":\"/\"variant\":\"c$C /" >> $OUT/scan.jsonl
done
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
python3 - $OUT/scan.jsonl <<'PY'
import sys, json, collections
by = collections.defaultdict(list)
for l in open(sys.argv[1]):
  r = json.loads(l)
  if 'skipped' in r or 'error' in r: by[(r['variant'], r['nq'])].append((r.get('skipped') or r.get('error'))[:200]); continue
  key = ('read', '') if r.get('kind') == 'read' else (r['variant'], r['nq'])
  by[key].append(round(r['ms'], 3))
for k, v in by.items(): print(k, v)
PY

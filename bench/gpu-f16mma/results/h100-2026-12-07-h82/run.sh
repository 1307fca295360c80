# Call h82: sel T, thresholds from a sample (the k'-th best of the first 1/16 of the rows, worked out
# on the host) and every score at or above them appended to storage: no lists, one barrier a query
# tile. Checked (every row of workgroup 0 above the threshold is a candidate), then timed against
# the threshold stand-in and torch fp16 in the same call.
OUT=${OUT:-/tmp/h82}; mkdir -p $OUT
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
echo "== check (second try: warm-up by time before each case)"
timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 16,64 --robust 0 --reps 2 --variants 'reg:8:1:s:8:264:T,reg:8:1:s:4:264:T:128' 2>&1 | grep '"ms"\|error' | tee $OUT/check.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r.get('variant'), r.get('nq'), r.get('sample'), r.get('error','')[:300])"
echo "== timing"
S16='reg:8:1:s:8:264,reg:8:1:s:8:264:T,reg:8:1:s:4:264:T,reg:4:1:s:4:528:T'
S64='reg:8:1:s:4:264:q:128,reg:8:1:s:4:264:T:128,reg:8:1:s:8:264:T:128,reg:4:1:s:4:528:T:256,reg:8:1:s:4:264:T:192'
for pass in 1 2; do
  timeout 150 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --check 0 --variants $S16 2>&1 | grep '"ms"\|skipped\|error' >> $OUT/scan.jsonl
  timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --check 0 --variants $S64 2>&1 | grep '"ms"\|skipped\|error' >> $OUT/scan.jsonl
done
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt
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
  by[key].append(round(r['ms'], 3) if 'sample' not in r else (round(r['ms'], 3), round(r['sample']['cand_mean']), r['sample']['cand_max']))
for k, v in by.items(): print(k, v)
PY

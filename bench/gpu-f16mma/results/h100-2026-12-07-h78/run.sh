# Call h78: are h77's fast f16-matrix scans and its slow ones repeatable? The same variants in two
# orders, twice, with the clocks, power and throttle reasons logged; torch fp16 before and after.
OUT=${OUT:-/tmp/h78}; mkdir -p $OUT
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_event_reasons.active --format=csv -lms 250 > $OUT/smi.csv 2>&1 &
SMI=$!
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
A='reg:8:1:s:8:264,reg:16:1:s:8:132,reg:8:1:s:4:264,reg:8:1:s:2:264'
B='reg:8:1:s:4:264:q:256,reg:8:1:s:4:264:q:128,reg:4:1:s:4:528:q:256,reg:8:1:s:2:264:q:192,reg:8:1:s:4:264:q:192'
rev() { echo "$1" | tr ',' '\n' | tac | paste -sd,; }
for pass in 1 2; do
  for V in "$A" "$(rev "$A")"; do timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --check 0 --variants "$V" 2>&1 | grep '"ms"' >> $OUT/scan.jsonl; done
  for V in "$B" "$(rev "$B")"; do timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --check 0 --variants "$V" 2>&1 | grep '"ms"' >> $OUT/scan.jsonl; done
done
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt
kill $SMI
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
python3 - $OUT/scan.jsonl <<'PY'
import sys, json, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.defaultdict(list)
for r in rows:
  key = ('read', '') if r.get('kind') == 'read' else (r['variant'], r['nq'])
  by[key].append(round(r['ms'], 3))
for k, v in by.items(): print(k, v)
PY
python3 - $OUT/smi.csv <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
print(len(lines), 'smi lines'); import collections
c = collections.Counter(l.split(',')[-1].strip() for l in lines[1:])
print(c.most_common(6))
sm = [l.split(',')[1].strip() for l in lines[1:]]; print('sm clocks', collections.Counter(sm).most_common(6))
pw = [float(l.split(',')[3].split()[0]) for l in lines[1:] if 'W' in l.split(',')[3]]; print('power max', max(pw) if pw else None)
PY

# h71: the first case after the fill, with --first-warm-ms at its default (1000) and at 0 (h68's
# cold first cell), f32 over 21M, 1 and 16 queries; torch fp32 in the same call.
B=out/h71
source "$B/device-common.sh"
for fw in 1000 0; do
  timeout 120 node $B/flat.mjs --n $N21 --nq 1,16 --precisions f32 --experimental 0 --first-warm-ms $fw $G 2>>$OUT/logs.txt | grep '^{' | python3 -c "
import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print('first-warm-ms $fw', r['precision'], r['n'], r['nq'], 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r['first_ms'], 'warm', r.get('warm_ms'), 'reps', r['reps'])"
  el flat-fw$fw $?
done
timeout 90 python3 $T --n $N21 --d 768 --nq 1,16 --k 10 --reps 3 --chunk 4194304 --dtypes float32 2>>$OUT/logs.txt | grep '^{' | python3 -c "$Q"; el torch $?

# H100 call h10 (session 23): 21M f32 at 1024 queries with torch in the same call (h9's torch ran past its limit), and the first search's time (pipelines compiled) at one query, 4 tiles a dispatch against 1.
B=out/h10; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"
P="import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'unc', r.get('uncertified'))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 280 python3 $T --n $N21 --d 768 --nq 1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 1024 --precisions f32 --experimental 1 --gpu-memory 78.5 --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 1 --precisions f32,f16 --experimental 0 --variants 'g1:gemvTiles=1;d:gemvTiles=0' --check-rows 2 --warm-ms 300 --min-ms 300 --max-reps 20 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

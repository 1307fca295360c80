# H100 call h9 (session 23): issue 4's f32 grid at the default gemvTiles (4 a dispatch on a GPU), 21M (--gpu-memory 78.5, as README says for an 80 GB card) and 1M, allowExperimental, torch in the same call; one query repeated with more reps.
B=out/h9; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"
P="import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'oracle', r.get('oracle_ok'), 'cut', str(r.get('digits_cut',''))[:80])"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 100 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 20 --chunk 4194304 --dtypes float32 2>/dev/null | python3 -c "$Q"
timeout 150 python3 $T --n $N21 --d 768 --nq 16,64,256,1024 --k 10 --reps 3 --chunk 4194304 --dtypes float32 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 1,16,64,256,1024 --precisions f32 --experimental 1 --gpu-memory 78.5 --check-rows 4 --warm-ms 1000 --min-ms 300 --max-reps 20 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 20 --chunk 4194304 --dtypes float32 2>/dev/null | python3 -c "$Q"
timeout 100 python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 20 --dtypes float32 2>/dev/null | python3 -c "$Q"
timeout 150 node $B/flat.mjs --n 1000000 --nq 1,16,64,256,1024 --precisions f32 --experimental 1 --oracle-queries 2 --warm-ms 500 --min-ms 300 --max-reps 200 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

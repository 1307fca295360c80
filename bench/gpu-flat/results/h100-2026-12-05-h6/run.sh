# H100 call h6 (session 22): f32 one query at 21M over 2 / 1 / 0.5 GiB tiles (31 / 61 / 121 dispatches a search): what a dispatch costs.
B=out/h6; N21=21015324; T=.device/torch_flat_baseline.py
python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 20 --chunk 4194304 --dtypes float32 2>/dev/null | cut -c1-200
for g in 0 1 0.5; do node $B/flat.mjs --n $N21 --nq 1,4 --precisions f32 --experimental 0 --max-tile-gib $g --check-rows 2 --warm-ms 500 --min-ms 400 --max-reps 30 2>/dev/null | grep '^{' | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print('tile_gib', '$g', r['precision'], r['nq'], 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'tiles', r.get('tiles'))"; done
python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 20 --chunk 4194304 --dtypes float32 2>/dev/null | cut -c1-200

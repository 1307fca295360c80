# Prepared in session 22 for an H100 (nvidia-h100-x1) and not run (no device time left): flat_gemv over 2 / 3 / 4 tiles a dispatch (kernelTuning.gemvTiles) at one query, 21M and 1M, torch in the same call.
# Bundle (at the commit measured): npx esbuild bench/gpu-flat/run.ts --bundle --minify --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h7/flat.mjs; cp bench/gpu-flat/gemv-tiles.sh out/h7/run.sh
# On the device (carry .device and out/h7): source .device/setup.sh && bash out/h7/run.sh. If a variant beats g1 / g1b at both N with ids1 equal, set kernelTuning.gemvTiles to it.
B=out/h8; N21=21015324; T=.device/torch_flat_baseline.py
P="import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), r.get('oracle_ok'))"
python3 $T --n $N21 --d 768 --nq 1,4 --k 10 --reps 20 --chunk 4194304 --dtypes float16,float32 2>/dev/null | cut -c1-160
node $B/flat.mjs --n $N21 --nq 1,4 --precisions f32,f16 --experimental 0 --variants 'g1:gemvTiles=1;g2:gemvTiles=2;g4:gemvTiles=4;g3:gemvTiles=3;g1b:gemvTiles=1' --check-rows 2 --warm-ms 500 --min-ms 400 --max-reps 30 2>/dev/null | grep '^{' | python3 -c "$P"
python3 $T --n $N21 --d 768 --nq 1 --k 10 --reps 20 --chunk 4194304 --dtypes float32 2>/dev/null | cut -c1-160
python3 $T --n 1000000 --d 768 --nq 1 --k 10 --reps 30 --dtypes float32 2>/dev/null | cut -c1-160
node $B/flat.mjs --n 1000000 --nq 1 --precisions f32 --experimental 0 --variants 'g1:gemvTiles=1;g2:gemvTiles=2' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 200 2>/dev/null | grep '^{' | python3 -c "$P"

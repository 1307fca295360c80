# Prepared in session 24 for an H100 (nvidia-h100-x1) and not run: no device was lent for the rest of that session.
# It times what session 24 built but could not measure, each against a dispatch a tile, alternating, torch in the same call:
#   - flat_gemv_multi (5-16 queries, the portable path) over several tiles a dispatch (kernelTuning.gemvMultiTiles, default 1);
#   - int8_gemv (int8, 1-4 queries) likewise (kernelTuning.int8GemvTiles, default 1);
#   - flat_gemv with the index's smaller last tile grouped (7aa0d0c, on by default: 1M x 768's two tiles in one dispatch), gemvTiles=1 against the default.
# Bundle (at the commit measured): npx esbuild bench/gpu-flat/run.ts --bundle --minify --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h11/flat.mjs; cp bench/gpu-flat/gemv-tiles-more.sh out/h11/run.sh; git rev-parse --short HEAD > out/h11/COMMIT
# On the device (carry .device and out/h11): source .device/setup.sh && bash out/h11/run.sh (~5-8 min).
# Decide: where m4 / i4 beat m1 / i1 at 21M with ids1 equal (and `first`, the first search's compile, is acceptable), set gemvMultiTiles / int8GemvTiles to 0 (4 on a GPU);
# where g4 is not slower than g1 at 1M, keep the smaller tile grouped, else make gemvRun stop before it.
B=out/h11; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'recall', r.get('recall', ''))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,4,8,16 --k 10 --reps 30 --dtypes float32,float16 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 1,4 --precisions f32,f16 --experimental 0 --variants 'g1:gemvTiles=1;g4:gemvTiles=0;g1b:gemvTiles=1;g4b:gemvTiles=0' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 200 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 150 python3 $T --n $N21 --d 768 --nq 1,4,5,8,16 --k 10 --reps 10 --chunk 4194304 --dtypes float32,float16 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 240 node $B/flat.mjs --n $N21 --nq 5,8,16 --precisions f32,f16 --experimental 0 --variants 'm1:gemvMultiTiles=1;m4:gemvMultiTiles=4;m1b:gemvMultiTiles=1;m4b:gemvMultiTiles=4' --check-rows 2 --warm-ms 500 --min-ms 300 --max-reps 12 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 1,4 --precisions int8 --experimental 0 --variants 'i1:int8GemvTiles=1;i4:int8GemvTiles=4;i1b:int8GemvTiles=1;i4b:int8GemvTiles=4' --check-rows 2 --warm-ms 500 --min-ms 300 --max-reps 20 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 60 python3 $T --n $N21 --d 768 --nq 1,8,16 --k 10 --reps 10 --chunk 4194304 --dtypes float32 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"

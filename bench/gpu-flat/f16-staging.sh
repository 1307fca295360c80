# Prepared in session 25 for an H100 (nvidia-h100-x1): f16 at exactly half of f32's memory (the conversion
# while staging, tf16c=0, what `digitPlanes: false` runs), the one target of issue 4 still missed (h2: 0.70-0.72x
# torch fp16 at 16-64 queries), against the two staging knobs of 9afba2e, alternating, torch fp16 in the same call:
#   s = tensorTuning.f16Split (each warp-wide load covers whole 32-byte sectors), pN = prefetchDepth N (loads N chunks ahead),
#   t = prefetchTiles (the next tile's first chunks loaded during the last ones).
# Then the session-24 grouping (session 24's prepared gemv-tiles-more.sh cases, shortened; that script is gone, gemv-tiles-h13.sh follows).
# Bundle (at the commit measured): npx esbuild bench/gpu-flat/run.ts --bundle --minify --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/h12/flat.mjs; cp bench/gpu-flat/f16-staging.sh out/h12/run.sh; git rev-parse --short HEAD > out/h12/COMMIT
# On the device (carry .device and out/h12): source .device/setup.sh && bash out/h12/run.sh (~8-10 min).
# Decide: a variant whose gpu ms beat cv and cv2 at 1M and 21M with recall 1.000 becomes the default.
B=out/h12; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'recall', r.get('recall', ''))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
V='cv:tf16c=0;s:tf16c=0,tf16s=1;p2:tf16c=0,tpfd=2;t:tf16c=0,tpft=1;p2t:tf16c=0,tpfd=2,tpft=1;sp2t:tf16c=0,tf16s=1,tpfd=2,tpft=1;cv2:tf16c=0'
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,64 --k 10 --reps 30 --dtypes float16 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n 1000000 --nq 16,64 --precisions f16 --experimental 1 --variants "$V" --oracle-queries 2 --warm-ms 300 --min-ms 300 --max-reps 100 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 90 python3 $T --n $N21 --d 768 --nq 16,64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 16,64 --precisions f16 --experimental 1 --gpu-memory 78.5 --variants "$V" --check-rows 2 --warm-ms 500 --min-ms 0 --max-reps 5 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
# The code plane (f16 at 0.75x f32's memory, int8's kernel on codes) with prefetchTiles.
timeout 120 node $B/flat.mjs --n 1000000 --nq 16,64 --precisions f16 --experimental 1 --variants 'c:;ct:tpft=1;c2:;ct2:tpft=1' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 100 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
# The session-24 grouping: smaller last tile (g), flat_gemv_multi (m), int8_gemv (i).
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,4 --k 10 --reps 30 --dtypes float32,float16 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n 1000000 --nq 1,4 --precisions f32,f16 --experimental 0 --variants 'g1:gemvTiles=1;g4:gemvTiles=0;g1b:gemvTiles=1;g4b:gemvTiles=0' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 200 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 120 python3 $T --n $N21 --d 768 --nq 1,4,8,16 --k 10 --reps 5 --chunk 4194304 --dtypes float32,float16 2>/dev/null | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 200 node $B/flat.mjs --n $N21 --nq 8,16 --precisions f32,f16 --experimental 0 --variants 'm1:gemvMultiTiles=1;m4:gemvMultiTiles=4;m1b:gemvMultiTiles=1;m4b:gemvMultiTiles=4' --check-rows 2 --warm-ms 500 --min-ms 300 --max-reps 8 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 120 node $B/flat.mjs --n $N21 --nq 1,4 --precisions int8 --experimental 0 --variants 'i1:int8GemvTiles=1;i4:int8GemvTiles=4;i1b:int8GemvTiles=1;i4b:int8GemvTiles=4' --check-rows 2 --warm-ms 500 --min-ms 300 --max-reps 12 2>/dev/null | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

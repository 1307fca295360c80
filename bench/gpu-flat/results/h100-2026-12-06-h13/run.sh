# Session 25 (run in 26), H100 call h13: session 24's grouping again after h12's g / m runs threw (tilesSource counted a comment; fixed in
# the commit this bundles), and prefetchTiles / prefetchDepth 2 on int8 and the f16 code plane (h12 timed them on the f16 conversion). torch in the same call.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h13/flat.mjs (the package's WGSL text; esbuild's plain text loader keeps the shaders' comments); cp bench/gpu-flat/gemv-tiles-h13.sh out/h13/run.sh; git rev-parse --short HEAD > out/h13/COMMIT
# On the device (carry .device and out/h13): source .device/setup.sh && bash out/h13/run.sh (~5 min).
B=out/h13; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
P="import sys,json
for l in sys.stdin:
  if not l.startswith('{'): print(l.rstrip()[:300]); continue
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'first', r.get('first_ms'), 'reps', r['reps'], 'ids1', r.get('ids_as_first'), 'recall', r.get('recall', ''))"
Q="import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
# Most wanted first (the call may be cut short): the two groupings, then the prefetch knobs.
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,4,16,64 --k 10 --reps 30 --dtypes float32,float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 1,4 --precisions f32,f16 --experimental 0 --variants 'g1:gemvTiles=1;g4:gemvTiles=0;g1b:gemvTiles=1;g4b:gemvTiles=0' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 200 2>&1 | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 90 python3 $T --n $N21 --d 768 --nq 8,16 --k 10 --reps 5 --chunk 4194304 --dtypes float32,float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 8,16 --precisions f32,f16 --experimental 0 --gpu-memory 78.5 --variants 'm1:gemvMultiTiles=1;m4:gemvMultiTiles=4;m1b:gemvMultiTiles=1;m4b:gemvMultiTiles=4' --check-rows 2 --warm-ms 300 --min-ms 200 --max-reps 6 2>&1 | grep -E '^\{|Error' | python3 -c "$P" | tail -20; echo "[$((SECONDS-S0)) s]"
# The conversion (f16 at half memory, tf16c=0) from 256 queries with the staging prefetch (its defaults apply below 256 only).
timeout 60 python3 $T --n 1000000 --d 768 --nq 256,1024 --k 10 --reps 10 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 256,1024 --precisions f16 --experimental 1 --variants 'cv:tf16c=0;p2t:tf16c=0,tpfd=2,tpft=1;cv2:tf16c=0;p2t2:tf16c=0,tpfd=2,tpft=1' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 50 2>&1 | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 16,64 --precisions int8 --experimental 1 --variants 'c:;t:tpft=1;p2t:tpfd=2,tpft=1;c2:;t2:tpft=1;p2t2:tpfd=2,tpft=1' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 100 2>&1 | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"
timeout 100 node $B/flat.mjs --n 1000000 --nq 16,64 --precisions f16 --experimental 1 --variants 'c:;p2t:tpfd=2,tpft=1;c2:;p2t2:tpfd=2,tpft=1' --oracle-queries 1 --warm-ms 300 --min-ms 300 --max-reps 100 2>&1 | grep '^{' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

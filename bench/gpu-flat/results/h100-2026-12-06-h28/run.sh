# Session 28, H100 call h28: what index.warmUp(10) costs with a flat_gemv_multi pipeline a batch size
# (mpart 1) against one a block (mpart 0), f32 and f16 over 1M rows, each in a fresh process (the
# pipeline cache starts empty); experimental on (the defaults) and off.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h28/flat.mjs; cp bench/gpu-flat/warmup-h28.sh out/h28/run.sh; git rev-parse --short HEAD > out/h28/COMMIT
# On the device (carry .device and out/h28): source .device/setup.sh && bash out/h28/run.sh (~1.5 min).
B=out/h28; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
for x in 1 0; do for p in f32 f16; do for v in p0:mpart=0 p1:mpart=1 p0b:mpart=0 p1b:mpart=1; do
  timeout 60 node $B/flat.mjs --n 1000000 --nq 1 --precisions $p --experimental $x --warm-up 1 --variants "$v" --min-ms 0 --max-reps 1 2>&1 | grep -E 'warm_up|Error' | sed "s/^/x$x /" | cut -c1-200
done; done; done; echo "[$((SECONDS-S0)) s]"

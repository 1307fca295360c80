# Session 29, H100 call h40: what warmUp costs at the new defaults (1M x 768, index.warmUp(10), a fresh
# process each; --warm-up 1), f16 with flat_gemv_multi's block of 16 for 9-16 queries (gemvMulti 15,
# the default since a387b2b) against without it (gemvMulti 7), f32 for reference, the portable
# kernels (--experimental 0). Each pair twice: the first process of the call meets a cold driver cache.
# Bundle: node bench/device-bundle.mjs bench/gpu-flat/run.ts out/h40/flat.mjs; cp bench/gpu-flat/knobs-h40.sh out/h40/run.sh; git rev-parse --short HEAD > out/h40/COMMIT
# On the device (carry .device and out/h40): source .device/setup.sh && bash out/h40/run.sh (~1 min).
B=out/h40; S0=$SECONDS
echo "commit $(cat $B/COMMIT)"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
for p in f16 f32; do for v in g15:gemvMulti=15 g7:gemvMulti=7 g15b:gemvMulti=15 g7b:gemvMulti=7; do
  timeout 60 node $B/flat.mjs --n 1000000 --nq 1 --precisions $p --experimental 0 --warm-up 1 --variants "$v" --min-ms 0 --max-reps 1 2>&1 | grep -E 'warm_up|Error' | cut -c1-200
done; done; echo "[$((SECONDS-S0)) s]"

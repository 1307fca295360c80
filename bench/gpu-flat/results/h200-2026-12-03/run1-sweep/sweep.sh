set -o pipefail
B=out/device-gpu/gpu-flat.mjs
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader
V="d:big=4x8;e8:big=8x8;e8k8:big=8x8,kc=8;k8:kc=8;e84:big=8x4;t8k:target=8192;t512:target=512;ru1:ru=1;ru4:ru=4"
( python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/torch1m.jsonl 2> $OUT/torch1m.err ) &
TP=$!
wait $TP
node $B --n 1000000 --nq 1,16,64,256,1024 --precisions f32,f16,int8 --ceilings 1 --min-ms 120 --max-reps 5 --variants "$V" > $OUT/sweep1m.jsonl 2> $OUT/sweep1m.err
echo "rc=$?"; tail -3 $OUT/sweep1m.err
node bench/gpu-flat/summary.mjs $OUT/torch1m.jsonl $OUT/sweep1m.jsonl

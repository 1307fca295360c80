set -o pipefail
B=out/device-gpu/gpu-flat.mjs
T=.device/torch_flat_baseline.py
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/t1m.jsonl 2> $OUT/t1m.err
node $B --n 1000000 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 100 --max-reps 5 --variants "d;e84:big=8x4;e8:big=8x8;e8s:big=8x8s;k8:kc=8;t512:target=512;t8k:target=8192;ru2:ru=2;dot:chain=0" > $OUT/g1m32.jsonl 2> $OUT/g1m32.err
node $B --n 1000000 --nq 1,16,64,256,1024 --precisions f16,int8 --min-ms 100 --max-reps 5 > $OUT/g1m.jsonl 2> $OUT/g1m.err
node bench/gpu-flat/summary.mjs $OUT/t1m.jsonl $OUT/g1m32.jsonl $OUT/g1m.jsonl | tee $OUT/summary1m.txt
python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/t21m.jsonl 2> $OUT/t21m.err
node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --min-ms 0 --max-reps 2 > $OUT/g21m32.jsonl 2> $OUT/g21m32.err
node $B --n 21015324 --nq 1,16,64 --precisions f16 --min-ms 0 --max-reps 2 > $OUT/g21m16.jsonl 2> $OUT/g21m16.err
node $B --n 21015324 --nq 1,64,1024 --precisions int8 --min-ms 0 --max-reps 2 > $OUT/g21m8.jsonl 2> $OUT/g21m8.err
node bench/gpu-flat/summary.mjs $OUT/t21m.jsonl $OUT/g21m32.jsonl $OUT/g21m16.jsonl $OUT/g21m8.jsonl | tee $OUT/summary21m.txt

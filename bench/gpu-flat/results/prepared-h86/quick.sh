# NOT RUN (forty-first session). The same folder as run.sh; on the device: source .device/setup.sh && bash out/h86/quick.sh
# Call h86 cut to what a few minutes of device time allow: the index's f16 two-pass scan (s) against
# today's route under the same toggles (h) at 16 / 32 / 64 queries over 1M, torch fp16 before, same call.
B=out/h86
W=${OUT:-/tmp/h86}; mkdir -p $W
T=.device/torch_flat_baseline.py
gunzip -f $B/flat.mjs.gz
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 10 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; echo "torch rc=$?"
timeout 150 node $B/flat.mjs --n 1000000 --nq 16,32,64 --precisions f16 --experimental 1 --toggles disable_robustness,vulkan_enable_f16_on_nvidia --variants 'h:tf16c=0;s:tf16c=0,tf16scan=1' --warm-ms 300 --min-ms 200 --max-reps 50 --oracle-queries 2 > $W/flat-1m-scan.jsonl 2>>$W/logs.txt; echo "flat rc=$?"
node $B/summary.mjs $W/torch-1m.jsonl $W/flat-1m-scan.jsonl 2>&1 | tee $W/summary.txt
grep -h '"oracle' $W/flat-1m-scan.jsonl | head -3 | cut -c1-400
tail -n 8 $W/logs.txt

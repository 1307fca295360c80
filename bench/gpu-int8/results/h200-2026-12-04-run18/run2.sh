# gpu-int8 run 18, call 2 (nvidia-h200): why the 16-query block (call 1: 0.92 ms GPU at nq 16) is
# slower than the 32-query block (0.78 ms). GPU ms at 1M x 768, nq 16, k = 10, twice each, same
# bundle as call 1 (out/r18/run.mjs, commit in COMMIT): residency / waves (targetWorkgroupsSmall
# 1024 / 1536 for both blocks), registers held by prefetch (tpf 0), the selection's share (k' 20
# against 40: depth=20); torch fp32 / fp16 at nq 16 in the same call.
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run18/run2.sh
set -o pipefail
N=${N:-1000000}
EXP=${EXP:-1}
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
timeout 20 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 16 --k 10 --reps 20 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
V="w:nq=16;d:nq=16;b:tb16=1,nq=16;d1k:tws=1024,nq=16;b1k:tb16=1,tws=1024,nq=16;d15:tws=1536,nq=16;b15:tb16=1,tws=1536,nq=16"
V="$V;dpf:tpf=0,nq=16;bpf:tb16=1,tpf=0,nq=16;dk20:depth=20,nq=16;bk20:tb16=1,depth=20,nq=16"
V="$V;d2:nq=16;b2:tb16=1,nq=16;d1k2:tws=1024,nq=16;b1k2:tb16=1,tws=1024,nq=16;dk202:depth=20,nq=16;bk202:tb16=1,depth=20,nq=16"
timeout 120 node out/r18/run.mjs --n $N --experimental $EXP --variants "$V" --min-ms 300 --max-reps 300 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
grep -h . $OUT/torch.jsonl | cut -c1-150
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -20

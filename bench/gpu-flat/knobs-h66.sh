# Session 34, H100 call h66 (NOT RUN: no machine could be started, then too little device time; bundle from HEAD): the new defaults (meven 1, h16split /
# m16split 9: 9-16 queries as two even blocks of 8, blocks first) over 21M, which h64-h65 measured over
# 1M only. d = the new defaults; o = the old (h16split 15, m16split 13, meven 0: the block of 16 to
# f16 14 / f32 12). torch fp16 with --chunk 4194304. f16 only (f32 dropped: 289 s of device time left).
# Copy: cp bench/gpu-flat/knobs-h66.sh out/h66/run.sh; cp bench/gpu-flat/device-common.sh out/h66/.
# On the device: source .device/setup.sh && bash out/h66/run.sh (~90 s).
B=out/h66
source "$B/device-common.sh"
timeout 90 python3 $T --n $N21 --d 768 --nq 9,12,14 --k 10 --reps 3 --chunk 4194304 --dtypes float16 2>&1 | grep '^{' | python3 -c "$Q"; echo "[$((SECONDS-S0)) s]"
timeout 150 node $B/flat.mjs --n $N21 --nq 9,12,14 --k 10 --precisions f16 --experimental 0 --variants "d:;o:h16split=15,m16split=13,meven=0" $G 2>&1 | grep -E '^\{|Error' | python3 -c "$P"; echo "[$((SECONDS-S0)) s]"

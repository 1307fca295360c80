# A short device call (~3.5 min; for a session whose device time is short, or as its first call): the
# driver's pipeline statistics (with L, bench/shader-stats), f16 over 21M and 1M at 8-16 queries
# (kernel variants HV) beside torch fp16 at the same sizes. (int8 over 21M, which builds an f32
# reference from host rows for minutes first, is left to grid.sh: it ran out of h67's time.)
# Built by: bash bench/gpu-flat/make-call.sh hN short, which prints the command.
B=out/h66
source "$B/device-common.sh"
W=${OUT:-/tmp/h66}; mkdir -p "$W"
stats_first
BUDGET=${BUDGET:-240}
# HV: the kernel variants the f16 steps compare (bench/gpu-flat/run.ts --variants, e.g.
# 'c;r2:hmru=2'); none: the defaults. h67 (results/h100-2026-12-07-h67) compared half bits and 8 rows a lane group.
HV=${HV:-}
# XT: Dawn toggles (a device's, so a process of its own) under which each size's f16 step runs a
# second time, e.g. disable_robustness (h70: the share of the bounds checks in an issue-bound loop).
XT=${XT:-}
NQS=${NQS:-8,9,12,16}
# f16_steps SIZE N SECONDS FLAGS: the f16 step over N rows (flat-SIZE-f16.jsonl), again under XT
# where set (flat-SIZE-f16-xt.jsonl), then the summary against torch-SIZE.jsonl.
f16_steps() {
  timeout $(tl $3) node $B/flat.mjs --n $2 --nq $NQS --precisions f16 --experimental 0 --variants "$HV" $4 > $W/flat-$1-f16.jsonl 2>>$W/logs.txt; el flat-$1-f16 $?
  if [ -n "$XT" ]; then timeout $(tl $3) node $B/flat.mjs --n $2 --nq $NQS --precisions f16 --experimental 0 --variants "$HV" --toggles "$XT" $4 > $W/flat-$1-f16-xt.jsonl 2>>$W/logs.txt; el flat-$1-f16-xt $?; fi
  node $B/summary.mjs $W/torch-$1.jsonl $W/flat-$1-*.jsonl > $W/summary-$1.txt 2>&1; cat $W/summary-$1.txt
}
timeout $(tl 60) python3 $T --n $N21 --d 768 --nq $NQS --k 10 --reps 3 --chunk 4194304 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-21m.jsonl; el torch-21m $?
f16_steps 21m $N21 80 "$G"
timeout $(tl 40) python3 $T --n 1000000 --d 768 --nq $NQS --k 10 --reps 10 --dtypes float16 2>>$W/logs.txt | grep '^{' > $W/torch-1m.jsonl; el torch-1m $?
f16_steps 1m 1000000 50 "$F"
logs_tail
pack_results

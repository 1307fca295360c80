"""Device-to-device copy bandwidth through PyTorch (cudaMemcpy D2D), the memory ceiling that
/work/.library/device/METHOD.md and issue 4 name ("the device's measured copy bandwidth"): bytes
read plus bytes written over the time of a large tensor copy, CUDA events around each rep. Prints
one JSON line; the floors of reading an N x d index once at that rate (int8 / f16 / f32) beside it.

  python3 bench/gpu-flat/torch_copy_bandwidth.py --gib 2 --reps 20 --n 1000000 --d 768
"""
import argparse, json
import torch

p = argparse.ArgumentParser()
p.add_argument('--gib', type=float, default=2.0, help='bytes copied a rep (GiB)')
p.add_argument('--reps', type=int, default=20)
p.add_argument('--n', default='1000000', help="rows for the floors, comma-separated")
p.add_argument('--d', type=int, default=768)
a = p.parse_args()

words = int(a.gib * 2**30) // 4
src = torch.arange(words, device='cuda', dtype=torch.int32)  # non-zero contents
dst = torch.empty_like(src)
for _ in range(3):
    dst.copy_(src)
torch.cuda.synchronize()
times = []
for _ in range(a.reps):
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record(); dst.copy_(src); e.record(); e.synchronize()
    times.append(s.elapsed_time(e))
times.sort()
ms = times[len(times) // 2]
gbps = 2 * words * 4 / (ms * 1e-3) / 1e9
assert torch.equal(dst[-1:], src[-1:])
out = {'engine': 'torch', 'case': 'copy_bandwidth', 'bytes_each_way': words * 4, 'median_ms': round(ms, 4), 'best_ms': round(times[0], 4), 'copy_gbps': round(gbps, 1), 'device': torch.cuda.get_device_name()}
for n in (int(x) for x in a.n.split(',')):
    out[f'floor_ms_{n}'] = {prec: round(n * a.d * b / (gbps * 1e9) * 1e3, 4) for prec, b in (('int8', 1), ('f16', 2), ('f32', 4))}
print(json.dumps(out))

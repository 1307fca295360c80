"""FAISS rows of bench/cpu-ann: IndexHNSWFlat (IP) on the harness's data files, 1 thread and all threads.

Debian's python3-faiss (1.7.3) is a generic build (no AVX2, reference BLAS): its figures are those of
that build, not of FAISS at its best. Prints one line "@@ROWS <json>" like the Node children.
"""
import argparse
import json
import resource
import time

import faiss
import numpy as np

p = argparse.ArgumentParser()
for a in ("--base", "--queries", "--truth"):
    p.add_argument(a, required=True)
for a in ("--d", "--k", "--M", "--ef-construction", "--threads"):
    p.add_argument(a, type=int, required=True)
p.add_argument("--ef", required=True)
a = p.parse_args()

base = np.fromfile(a.base, dtype="float32").reshape(-1, a.d)
queries = np.fromfile(a.queries, dtype="float32").reshape(-1, a.d)
truth = np.fromfile(a.truth, dtype="int32").reshape(len(queries), a.k)
n, nq = len(base), len(queries)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def recall(I):
    return float(np.mean([len(set(I[i]) & set(truth[i])) / a.k for i in range(nq)]))


rows = []
# One single-threaded build (the build-time comparison), searched with 1 and all threads.
faiss.omp_set_num_threads(1)
rss0 = rss_mb()
index = faiss.IndexHNSWFlat(a.d, a.M, faiss.METRIC_INNER_PRODUCT)
index.hnsw.efConstruction = a.ef_construction
w0, c0 = time.perf_counter(), time.process_time()
index.add(base)
build_s, build_cpu = time.perf_counter() - w0, time.process_time() - c0
mem = rss_mb() - rss0
for threads in sorted({1, a.threads}):
    faiss.omp_set_num_threads(threads)
    for ef in map(int, a.ef.split(",")):
        index.hnsw.efSearch = ef
        index.search(queries, a.k)  # warm-up
        best, best_cpu = 0.0, 0.0
        for rep in range(3):  # best of 3: the machine is shared and noisy
            w0, c0 = time.perf_counter(), time.process_time()
            _, I = index.search(queries, a.k)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best, best_cpu = max(best, nq / wall), max(best_cpu, nq / max(cpu, 1e-9))
        row = dict(library="faiss 1.7.3 (Debian, generic)", index=f"HNSW{a.M} efC{a.ef_construction}", d=a.d, n=n,
                   threads=threads, param="efSearch", value=ef, recall=recall(I), qps=best,
                   buildS=build_s, buildCpuS=build_cpu, buildThreads=1, memoryMB=mem, note="RSS delta")
        if threads == 1:
            row["qpsCpu"] = best_cpu
        rows.append(row)
print("\n@@ROWS " + json.dumps(rows))

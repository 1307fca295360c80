/*
 * Shared helpers of the tessera WebAssembly module: exports, SIMD128 distance kernels, a
 * (distance, id) max-heap. Freestanding C (no libc): all memory is laid out by the TypeScript side
 * (src/wasm/memory.ts) and passed in as pointers, so the same code runs with or without threads.
 */
#ifndef TESSERA_H
#define TESSERA_H

#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

enum { METRIC_IP = 0, METRIC_L2 = 1 };

/* Sum of the four lanes of v. */
static inline float hsum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

/* a . b over d floats; four independent accumulators hide the add latency. */
static inline float dot_f32(const float *a, const float *b, int d) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  int j = 0;
  for (; j + 16 <= d; j += 16) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + j), wasm_v128_load(b + j)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + j + 4), wasm_v128_load(b + j + 4)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(a + j + 8), wasm_v128_load(b + j + 8)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(a + j + 12), wasm_v128_load(b + j + 12)));
  }
  for (; j + 4 <= d; j += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + j), wasm_v128_load(b + j)));
  float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; j < d; j++) s += a[j] * b[j];
  return s;
}

/* Squared L2 distance |a - b|^2 over d floats, computed directly (not via norms) for accuracy. */
static inline float l2sq_f32(const float *a, const float *b, int d) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  int j = 0;
  for (; j + 16 <= d; j += 16) {
    v128_t t0 = wasm_f32x4_sub(wasm_v128_load(a + j), wasm_v128_load(b + j));
    v128_t t1 = wasm_f32x4_sub(wasm_v128_load(a + j + 4), wasm_v128_load(b + j + 4));
    v128_t t2 = wasm_f32x4_sub(wasm_v128_load(a + j + 8), wasm_v128_load(b + j + 8));
    v128_t t3 = wasm_f32x4_sub(wasm_v128_load(a + j + 12), wasm_v128_load(b + j + 12));
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(t0, t0));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(t1, t1));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(t2, t2));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(t3, t3));
  }
  for (; j + 4 <= d; j += 4) {
    v128_t t = wasm_f32x4_sub(wasm_v128_load(a + j), wasm_v128_load(b + j));
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(t, t));
  }
  float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; j < d; j++) {
    float t = a[j] - b[j];
    s += t * t;
  }
  return s;
}

/*
 * Distance where smaller is better: squared L2, or the negated inner product (as FAISS's
 * NegativeDistanceComputer does for IP in HNSW), so one search code serves both metrics.
 */
static inline float dist_min(int metric, const float *a, const float *b, int d) {
  return metric == METRIC_L2 ? l2sq_f32(a, b, d) : -dot_f32(a, b, d);
}

/*
 * Distances (smaller is better, as dist_min) from q to four rows at once: the four rows stream from
 * memory side by side, so their cache misses overlap (WebAssembly has no prefetch instruction), and
 * each query load serves four products. Graph searches gather unvisited neighbours and call this.
 */
static inline void dist_min4(int metric, const float *q, const float *b0, const float *b1, const float *b2, const float *b3,
                             int d, float *out) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
  int j = 0;
  if (metric == METRIC_IP) {
    for (; j + 8 <= d; j += 8) {
      v128_t x = wasm_v128_load(q + j), y = wasm_v128_load(q + j + 4);
      s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x, wasm_v128_load(b0 + j)));
      s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x, wasm_v128_load(b1 + j)));
      s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(x, wasm_v128_load(b2 + j)));
      s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(x, wasm_v128_load(b3 + j)));
      t0 = wasm_f32x4_add(t0, wasm_f32x4_mul(y, wasm_v128_load(b0 + j + 4)));
      t1 = wasm_f32x4_add(t1, wasm_f32x4_mul(y, wasm_v128_load(b1 + j + 4)));
      t2 = wasm_f32x4_add(t2, wasm_f32x4_mul(y, wasm_v128_load(b2 + j + 4)));
      t3 = wasm_f32x4_add(t3, wasm_f32x4_mul(y, wasm_v128_load(b3 + j + 4)));
    }
    for (; j + 4 <= d; j += 4) {
      v128_t x = wasm_v128_load(q + j);
      s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x, wasm_v128_load(b0 + j)));
      s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x, wasm_v128_load(b1 + j)));
      s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(x, wasm_v128_load(b2 + j)));
      s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(x, wasm_v128_load(b3 + j)));
    }
    float r0 = hsum(wasm_f32x4_add(s0, t0)), r1 = hsum(wasm_f32x4_add(s1, t1));
    float r2 = hsum(wasm_f32x4_add(s2, t2)), r3 = hsum(wasm_f32x4_add(s3, t3));
    for (; j < d; j++) {
      r0 += q[j] * b0[j];
      r1 += q[j] * b1[j];
      r2 += q[j] * b2[j];
      r3 += q[j] * b3[j];
    }
    out[0] = -r0;
    out[1] = -r1;
    out[2] = -r2;
    out[3] = -r3;
    return;
  }
  for (; j + 8 <= d; j += 8) {
    v128_t x = wasm_v128_load(q + j), y = wasm_v128_load(q + j + 4), e;
    e = wasm_f32x4_sub(x, wasm_v128_load(b0 + j)); s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(x, wasm_v128_load(b1 + j)); s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(x, wasm_v128_load(b2 + j)); s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(x, wasm_v128_load(b3 + j)); s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(y, wasm_v128_load(b0 + j + 4)); t0 = wasm_f32x4_add(t0, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(y, wasm_v128_load(b1 + j + 4)); t1 = wasm_f32x4_add(t1, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(y, wasm_v128_load(b2 + j + 4)); t2 = wasm_f32x4_add(t2, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(y, wasm_v128_load(b3 + j + 4)); t3 = wasm_f32x4_add(t3, wasm_f32x4_mul(e, e));
  }
  for (; j + 4 <= d; j += 4) {
    v128_t x = wasm_v128_load(q + j), e;
    e = wasm_f32x4_sub(x, wasm_v128_load(b0 + j)); s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(x, wasm_v128_load(b1 + j)); s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(x, wasm_v128_load(b2 + j)); s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(e, e));
    e = wasm_f32x4_sub(x, wasm_v128_load(b3 + j)); s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(e, e));
  }
  float r0 = hsum(wasm_f32x4_add(s0, t0)), r1 = hsum(wasm_f32x4_add(s1, t1));
  float r2 = hsum(wasm_f32x4_add(s2, t2)), r3 = hsum(wasm_f32x4_add(s3, t3));
  for (; j < d; j++) {
    float e0 = q[j] - b0[j], e1 = q[j] - b1[j], e2 = q[j] - b2[j], e3 = q[j] - b3[j];
    r0 += e0 * e0;
    r1 += e1 * e1;
    r2 += e2 * e2;
    r3 += e3 * e3;
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

/*
 * Max-heap of (dist, id) pairs where the top is the worst kept pair: larger dist, and on equal
 * dist the larger id, so ties keep the lower id. Arrays are 0-based; n is the size.
 */
static inline int heap_worse(float da, int32_t ia, float db, int32_t ib) { return da > db || (da == db && ia > ib); }

static inline void heap_sift_down(float *hd, int32_t *hi, int n, int i) {
  float d = hd[i];
  int32_t id = hi[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap_worse(hd[c + 1], hi[c + 1], hd[c], hi[c])) c++;
    if (!heap_worse(hd[c], hi[c], d, id)) break;
    hd[i] = hd[c];
    hi[i] = hi[c];
    i = c;
  }
  hd[i] = d;
  hi[i] = id;
}

static inline void heap_push(float *hd, int32_t *hi, int n, float d, int32_t id) {
  int i = n;
  while (i > 0) {
    int p = (i - 1) >> 1;
    if (!heap_worse(d, id, hd[p], hi[p])) break;
    hd[i] = hd[p];
    hi[i] = hi[p];
    i = p;
  }
  hd[i] = d;
  hi[i] = id;
}

/* Replaces the top (worst) with (d, id). */
static inline void heap_replace_top(float *hd, int32_t *hi, int n, float d, int32_t id) {
  hd[0] = d;
  hi[0] = id;
  heap_sift_down(hd, hi, n, 0);
}

/* Pops the worst into the last slot repeatedly: leaves hd/hi sorted best first. */
static inline void heap_sort_best_first(float *hd, int32_t *hi, int n) {
  for (int m = n; m > 1; m--) {
    float d = hd[0];
    int32_t id = hi[0];
    hd[0] = hd[m - 1];
    hi[0] = hi[m - 1];
    heap_sift_down(hd, hi, m - 1, 0);
    hd[m - 1] = d;
    hi[m - 1] = id;
  }
}

#endif

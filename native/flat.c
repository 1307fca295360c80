/*
 * Exact (brute-force) k-nearest-neighbour search over a row-major float32 base, IP or L2,
 * as FAISS IndexFlatIP / IndexFlatL2. Base rows are visited in cache-sized blocks and each block is
 * scored against all queries, four queries at a time, so the base streams from memory once per call.
 */
#include "tessera.h"

/* Four dot products of one base row b with queries q0..q3 (d floats each). */
static inline void dot4(const float *b, const float *q0, const float *q1, const float *q2, const float *q3, int d,
                        float *out) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  int j = 0;
  for (; j + 4 <= d; j += 4) {
    v128_t x = wasm_v128_load(b + j);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(x, wasm_v128_load(q0 + j)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(x, wasm_v128_load(q1 + j)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(x, wasm_v128_load(q2 + j)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(x, wasm_v128_load(q3 + j)));
  }
  float r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
  for (; j < d; j++) {
    r0 += b[j] * q0[j];
    r1 += b[j] * q1[j];
    r2 += b[j] * q2[j];
    r3 += b[j] * q3[j];
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

static inline void l2sq4(const float *b, const float *q0, const float *q1, const float *q2, const float *q3, int d,
                         float *out) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  int j = 0;
  for (; j + 4 <= d; j += 4) {
    v128_t x = wasm_v128_load(b + j);
    v128_t t0 = wasm_f32x4_sub(x, wasm_v128_load(q0 + j));
    v128_t t1 = wasm_f32x4_sub(x, wasm_v128_load(q1 + j));
    v128_t t2 = wasm_f32x4_sub(x, wasm_v128_load(q2 + j));
    v128_t t3 = wasm_f32x4_sub(x, wasm_v128_load(q3 + j));
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(t0, t0));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(t1, t1));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(t2, t2));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(t3, t3));
  }
  float r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
  for (; j < d; j++) {
    float t0 = b[j] - q0[j], t1 = b[j] - q1[j], t2 = b[j] - q2[j], t3 = b[j] - q3[j];
    r0 += t0 * t0;
    r1 += t1 * t1;
    r2 += t2 * t2;
    r3 += t3 * t3;
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

/* Offers (dist, id) to query q's heap of size *fill (capacity k); dist is smaller-is-better. */
static inline void offer(float *hd, int32_t *hi, int32_t *fill, int k, float dist, int32_t id) {
  int n = *fill;
  if (n < k) {
    heap_push(hd, hi, n, dist, id);
    *fill = n + 1;
  } else if (dist < hd[0]) {
    /* equal distance never replaces: rows come in increasing id, so the kept one has the lower id */
    heap_replace_top(hd, hi, n, dist, id);
  }
}

/*
 * base: n x d rows; queries: nq x d; out_d/out_i: nq x k (written best first, padded with
 * id -1 and +inf/-inf when k > n); fill: nq int32 scratch. Labels are row + id_offset.
 * IP distances are inner products (larger first), L2 are squared distances (smaller first).
 */
EXPORT(flat_search)
void flat_search(const float *base, int32_t n, int32_t d, const float *queries, int32_t nq, int32_t k,
                 int32_t metric, int32_t id_offset, float *out_d, int32_t *out_i, int32_t *fill) {
  for (int q = 0; q < nq; q++) fill[q] = 0;
  /* ~256 KiB of base rows per block: stays in cache while every query visits it */
  int block = 65536 / d;
  if (block < 8) block = 8;
  float s[4];
  const float sign = metric == METRIC_IP ? -1.f : 1.f;
  for (int b0 = 0; b0 < n; b0 += block) {
    int b1 = b0 + block < n ? b0 + block : n;
    int q = 0;
    for (; q + 4 <= nq; q += 4) {
      const float *q0 = queries + (size_t)q * d;
      for (int i = b0; i < b1; i++) {
        const float *row = base + (size_t)i * d;
        if (metric == METRIC_IP)
          dot4(row, q0, q0 + d, q0 + 2 * d, q0 + 3 * d, d, s);
        else
          l2sq4(row, q0, q0 + d, q0 + 2 * d, q0 + 3 * d, d, s);
        for (int t = 0; t < 4; t++) {
          size_t o = (size_t)(q + t) * k;
          offer(out_d + o, out_i + o, fill + q + t, k, sign * s[t], i + id_offset);
        }
      }
    }
    for (; q < nq; q++) {
      const float *qv = queries + (size_t)q * d;
      size_t o = (size_t)q * k;
      for (int i = b0; i < b1; i++) {
        float dist = dist_min(metric, qv, base + (size_t)i * d, d);
        offer(out_d + o, out_i + o, fill + q, k, dist, i + id_offset);
      }
    }
  }
  for (int q = 0; q < nq; q++) {
    float *hd = out_d + (size_t)q * k;
    int32_t *hi = out_i + (size_t)q * k;
    int m = fill[q];
    heap_sort_best_first(hd, hi, m);
    for (int j = 0; j < m; j++) hd[j] *= sign;
    for (int j = m; j < k; j++) {
      hd[j] = metric == METRIC_IP ? -__builtin_inff() : __builtin_inff();
      hi[j] = -1;
    }
  }
}

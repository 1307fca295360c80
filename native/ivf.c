/*
 * Inverted-file search (FAISS IndexIVFFlat / IndexIVFScalarQuantizer) and the SQ8 scan it shares
 * with IndexScalarQuantizer. The coarse step (the nprobe nearest centroids of each query) is
 * flat_search over the centroids (flat.c); this file scans the probed lists. Lists are laid out by
 * the TypeScript side (src/wasm/ivf-index.ts): per list a pointer to its codes, a pointer to its
 * int32 ids (0: ids are id_base + position, as for SQ8 without IVF) and its size.
 *
 * SQ8 is FAISS's QT_8bit with per-dimension ranges: x_j ~ vmin_j + (c_j + 0.5) / 255 * vdiff_j.
 * Scores are computed from per-query tables so the inner loop is one multiply-add per byte:
 *   ip: q.x = bias + sum_j w_j c_j,  w_j = q_j vdiff_j / 255,  bias = q.vmin + 0.5 sum_j w_j
 *   l2: |q - x|^2 = sum_j (a_j - c_j b_j)^2,  b_j = vdiff_j / 255,  a_j = q_j - vmin_j - 0.5 b_j
 * With by_residual, the lists hold x - centroid: for ip the list's bias gains q.centroid (the
 * coarse score), for l2 the tables are built from q - centroid per list.
 */
#include "tessera.h"

enum { STORAGE_FLAT = 0, STORAGE_SQ8 = 1 };

/* Offers (dist, id) (smaller dist is better) to a heap of capacity k holding *fill entries. */
static inline void ivf_offer(float *hd, int32_t *hi, int32_t *fill, int k, float dist, int32_t id) {
  int n = *fill;
  if (n < k) {
    heap_push(hd, hi, n, dist, id);
    *fill = n + 1;
  } else if (heap_worse(hd[0], hi[0], dist, id)) {
    /* lists are not in id order: a tie replaces the top only when its id is lower */
    heap_replace_top(hd, hi, n, dist, id);
  }
}

/* u8 x 16 -> four f32x4 */
#define WIDEN16(c, f0, f1, f2, f3)                                  \
  do {                                                              \
    v128_t lo16 = wasm_u16x8_extend_low_u8x16(c);                   \
    v128_t hi16 = wasm_u16x8_extend_high_u8x16(c);                  \
    f0 = wasm_f32x4_convert_u32x4(wasm_u32x4_extend_low_u16x8(lo16));  \
    f1 = wasm_f32x4_convert_u32x4(wasm_u32x4_extend_high_u16x8(lo16)); \
    f2 = wasm_f32x4_convert_u32x4(wasm_u32x4_extend_low_u16x8(hi16));  \
    f3 = wasm_f32x4_convert_u32x4(wasm_u32x4_extend_high_u16x8(hi16)); \
  } while (0)

/* sum_j w_j c_j over one code of d bytes. */
static inline float sq8_dot(const uint8_t *c, const float *w, int d) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  int j = 0;
  for (; j + 16 <= d; j += 16) {
    v128_t f0, f1, f2, f3;
    WIDEN16(wasm_v128_load(c + j), f0, f1, f2, f3);
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(f0, wasm_v128_load(w + j)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(f1, wasm_v128_load(w + j + 4)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(f2, wasm_v128_load(w + j + 8)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(f3, wasm_v128_load(w + j + 12)));
  }
  float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; j < d; j++) s += w[j] * (float)c[j];
  return s;
}

/* sum_j (a_j - c_j b_j)^2 over one code of d bytes. */
static inline float sq8_l2(const uint8_t *c, const float *a, const float *b, int d) {
  v128_t s0 = wasm_f32x4_splat(0.f), s1 = s0, s2 = s0, s3 = s0;
  int j = 0;
  for (; j + 16 <= d; j += 16) {
    v128_t f0, f1, f2, f3;
    WIDEN16(wasm_v128_load(c + j), f0, f1, f2, f3);
    v128_t t0 = wasm_f32x4_sub(wasm_v128_load(a + j), wasm_f32x4_mul(f0, wasm_v128_load(b + j)));
    v128_t t1 = wasm_f32x4_sub(wasm_v128_load(a + j + 4), wasm_f32x4_mul(f1, wasm_v128_load(b + j + 4)));
    v128_t t2 = wasm_f32x4_sub(wasm_v128_load(a + j + 8), wasm_f32x4_mul(f2, wasm_v128_load(b + j + 8)));
    v128_t t3 = wasm_f32x4_sub(wasm_v128_load(a + j + 12), wasm_f32x4_mul(f3, wasm_v128_load(b + j + 12)));
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(t0, t0));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(t1, t1));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(t2, t2));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(t3, t3));
  }
  float s = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; j < d; j++) {
    float t = a[j] - (float)c[j] * b[j];
    s += t * t;
  }
  return s;
}

/*
 * Searches nq queries over the lists named by probe_i (nq x nprobe, -1 = none) with coarse scores
 * probe_d (ip: q.c; l2: unused). Writes nq x k results best first (ip: larger first), padded with
 * id -1 and -inf/+inf. scratch: 2d floats (one per calling thread).
 */
EXPORT(ivf_search)
void ivf_search(int32_t d, int32_t metric, int32_t storage, int32_t by_residual, const float *centroids,
                const int32_t *code_ptrs, const int32_t *id_ptrs, const int32_t *sizes, const float *vmin,
                const float *vdiff, const float *queries, int32_t nq, int32_t k, int32_t nprobe,
                const int32_t *probe_i, const float *probe_d, float *out_d, int32_t *out_i, float *scratch) {
  float *w = scratch, *a = scratch + d;
  for (int q = 0; q < nq; q++) {
    const float *qv = queries + (size_t)q * d;
    float *hd = out_d + (size_t)q * k;
    int32_t *hi = out_i + (size_t)q * k;
    int32_t fill = 0;
    float bias = 0.f;
    if (storage == STORAGE_SQ8 && (metric == METRIC_IP || !by_residual)) {
      float half = 0.f;
      for (int j = 0; j < d; j++) {
        if (metric == METRIC_IP) {
          w[j] = qv[j] * vdiff[j] / 255.f;
          bias += qv[j] * vmin[j];
          half += w[j];
        } else {
          w[j] = vdiff[j] / 255.f;
          a[j] = qv[j] - vmin[j] - 0.5f * w[j];
        }
      }
      bias += 0.5f * half;
    }
    for (int p = 0; p < nprobe; p++) {
      int32_t l = probe_i[(size_t)q * nprobe + p];
      if (l < 0) continue;
      int32_t n = sizes[l];
      if (n == 0) continue;
      const int32_t *ids = id_ptrs[l] ? (const int32_t *)(uintptr_t)id_ptrs[l] : 0;
      if (storage == STORAGE_FLAT) {
        const float *x = (const float *)(uintptr_t)code_ptrs[l];
        for (int i = 0; i < n; i++) {
          float dist = dist_min(metric, qv, x + (size_t)i * d, d);
          ivf_offer(hd, hi, &fill, k, dist, ids ? ids[i] : i);
        }
        continue;
      }
      const uint8_t *c = (const uint8_t *)(uintptr_t)code_ptrs[l];
      if (metric == METRIC_IP) {
        float lb = bias + (by_residual ? probe_d[(size_t)q * nprobe + p] : 0.f);
        for (int i = 0; i < n; i++) {
          float s = lb + sq8_dot(c + (size_t)i * d, w, d);
          ivf_offer(hd, hi, &fill, k, -s, ids ? ids[i] : i);
        }
      } else {
        if (by_residual) {
          const float *cv = centroids + (size_t)l * d;
          for (int j = 0; j < d; j++) {
            w[j] = vdiff[j] / 255.f;
            a[j] = qv[j] - cv[j] - vmin[j] - 0.5f * w[j];
          }
        }
        for (int i = 0; i < n; i++) ivf_offer(hd, hi, &fill, k, sq8_l2(c + (size_t)i * d, a, w, d), ids ? ids[i] : i);
      }
    }
    heap_sort_best_first(hd, hi, fill);
    if (metric == METRIC_IP)
      for (int j = 0; j < fill; j++) hd[j] = -hd[j];
    for (int j = fill; j < k; j++) {
      hd[j] = metric == METRIC_IP ? -__builtin_inff() : __builtin_inff();
      hi[j] = -1;
    }
  }
}

/*
 * FAISS QT_8bit encode of n rows of x (minus centroid assign[i] when centroids is non-null):
 * code = (int)(255 * clamp((v - vmin) / vdiff, 0, 1)), 0 where vdiff is 0; float arithmetic as FAISS.
 */
EXPORT(sq8_encode)
void sq8_encode(const float *x, int32_t n, int32_t d, const float *vmin, const float *vdiff, const float *centroids,
                const int32_t *assign, uint8_t *out) {
  for (int i = 0; i < n; i++) {
    const float *xv = x + (size_t)i * d;
    const float *cv = centroids ? centroids + (size_t)assign[i] * d : 0;
    uint8_t *o = out + (size_t)i * d;
    for (int j = 0; j < d; j++) {
      float t = 0.f;
      if (vdiff[j] != 0.f) {
        float v = cv ? xv[j] - cv[j] : xv[j];
        t = (v - vmin[j]) / vdiff[j];
        if (t < 0.f) t = 0.f;
        if (t > 1.f) t = 1.f;
      }
      o[j] = (uint8_t)(int)(255.f * t);
    }
  }
}

/*
 * Exhaustive SQ8 search (IndexScalarQuantizer): like flat_search, codes are visited in cache-sized
 * blocks and each block is scored against all queries, four at a time, so the codes stream from
 * memory once per call instead of once per query. scratch: 8d floats (four queries' tables);
 * fill: nq int32. Labels are row + id_offset; output as ivf_search.
 */
EXPORT(sq8_search)
void sq8_search(const uint8_t *codes, int32_t n, int32_t d, int32_t metric, const float *vmin, const float *vdiff,
                const float *queries, int32_t nq, int32_t k, int32_t id_offset, float *out_d, int32_t *out_i,
                int32_t *fill, float *scratch) {
  for (int q = 0; q < nq; q++) fill[q] = 0;
  int block = 262144 / d;
  if (block < 16) block = 16;
  float *b = scratch; /* l2: vdiff / 255 (shared) */
  for (int j = 0; j < d; j++) b[j] = vdiff[j] / 255.f;
  for (int b0 = 0; b0 < n; b0 += block) {
    int b1 = b0 + block < n ? b0 + block : n;
    for (int q0 = 0; q0 < nq; q0 += 4) {
      int m = nq - q0 < 4 ? nq - q0 : 4;
      float *t = scratch + d; /* 4 x d tables, rebuilt per (block, query group): O(d), small next to the scan */
      float bias[4] = {0.f, 0.f, 0.f, 0.f};
      for (int u = 0; u < 4; u++) {
        const float *qv = queries + (size_t)(q0 + (u < m ? u : 0)) * d;
        float half = 0.f;
        for (int j = 0; j < d; j++) {
          if (metric == METRIC_IP) {
            float w = qv[j] * b[j];
            t[u * d + j] = w;
            bias[u] += qv[j] * vmin[j];
            half += w;
          } else {
            t[u * d + j] = qv[j] - vmin[j] - 0.5f * b[j];
          }
        }
        bias[u] += 0.5f * half;
      }
      for (int i = b0; i < b1; i++) {
        const uint8_t *c = codes + (size_t)i * d;
        v128_t s[4];
        for (int u = 0; u < 4; u++) s[u] = wasm_f32x4_splat(0.f);
        int j = 0;
        for (; j + 16 <= d; j += 16) {
          v128_t f[4];
          WIDEN16(wasm_v128_load(c + j), f[0], f[1], f[2], f[3]);
          if (metric == METRIC_IP) {
            for (int u = 0; u < 4; u++) {
              const float *w = t + u * d + j;
              s[u] = wasm_f32x4_add(s[u], wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(f[0], wasm_v128_load(w)), wasm_f32x4_mul(f[1], wasm_v128_load(w + 4))),
                                                         wasm_f32x4_add(wasm_f32x4_mul(f[2], wasm_v128_load(w + 8)), wasm_f32x4_mul(f[3], wasm_v128_load(w + 12)))));
            }
          } else {
            v128_t g0 = wasm_f32x4_mul(f[0], wasm_v128_load(b + j)), g1 = wasm_f32x4_mul(f[1], wasm_v128_load(b + j + 4));
            v128_t g2 = wasm_f32x4_mul(f[2], wasm_v128_load(b + j + 8)), g3 = wasm_f32x4_mul(f[3], wasm_v128_load(b + j + 12));
            for (int u = 0; u < 4; u++) {
              const float *a = t + u * d + j;
              v128_t e0 = wasm_f32x4_sub(wasm_v128_load(a), g0), e1 = wasm_f32x4_sub(wasm_v128_load(a + 4), g1);
              v128_t e2 = wasm_f32x4_sub(wasm_v128_load(a + 8), g2), e3 = wasm_f32x4_sub(wasm_v128_load(a + 12), g3);
              s[u] = wasm_f32x4_add(s[u], wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(e0, e0), wasm_f32x4_mul(e1, e1)),
                                                         wasm_f32x4_add(wasm_f32x4_mul(e2, e2), wasm_f32x4_mul(e3, e3))));
            }
          }
        }
        for (int u = 0; u < m; u++) {
          float r = hsum(s[u]);
          const float *tu = t + u * d;
          for (int jj = j; jj < d; jj++) {
            if (metric == METRIC_IP)
              r += tu[jj] * (float)c[jj];
            else {
              float e = tu[jj] - (float)c[jj] * b[jj];
              r += e * e;
            }
          }
          float dist = metric == METRIC_IP ? -(bias[u] + r) : r;
          size_t o = (size_t)(q0 + u) * k;
          ivf_offer(out_d + o, out_i + o, fill + q0 + u, k, dist, i + id_offset);
        }
      }
    }
  }
  for (int q = 0; q < nq; q++) {
    float *hd = out_d + (size_t)q * k;
    int32_t *hi = out_i + (size_t)q * k;
    int m = fill[q];
    heap_sort_best_first(hd, hi, m);
    if (metric == METRIC_IP)
      for (int j = 0; j < m; j++) hd[j] = -hd[j];
    for (int j = m; j < k; j++) {
      hd[j] = metric == METRIC_IP ? -__builtin_inff() : __builtin_inff();
      hi[j] = -1;
    }
  }
}

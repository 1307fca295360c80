/*
 * Exact scores of (row, query) pairs for the GPU int8 index's host re-rank (src/gpu/flat-index.ts):
 * candidate rows were gathered into a buffer and the queries laid out beside them; one call scores a
 * whole list of pairs, where one flat_search call per pair spent most of its time crossing from JS.
 * Each score is the value flat_search gives for that single row and query (the same dot_f32 /
 * l2sq_f32 over (query, row)), so results do not depend on how pairs are split across threads.
 */
#include "tessera.h"

/*
 * rows, queries: row-major, d floats each. Pair i is (pair_row[i], pair_q[i]), slots into rows and
 * queries. out[i]: the inner product (IP, larger is better) or squared L2 distance (smaller is better).
 */
EXPORT(rerank_pairs)
void rerank_pairs(const float *rows, int32_t d, const float *queries, const int32_t *pair_row,
                  const int32_t *pair_q, int32_t n, int32_t metric, float *out) {
  for (int i = 0; i < n; i++) {
    const float *q = queries + (size_t)pair_q[i] * d;
    const float *r = rows + (size_t)pair_row[i] * d;
    out[i] = metric == METRIC_IP ? dot_f32(q, r, d) : l2sq_f32(q, r, d);
  }
}

/*
 * Best k of each query's w candidates by score (IP: larger first; L2: smaller first), equal scores
 * by the lower id; candidates with id < 0 are skipped, and so are NaN scores (a row of a file that
 * holds NaN: FAISS and the f32/f16 kernels never return it either). scores, ids: nq x w
 * (query-major); out_d / out_i: nq x k, padded with the worst score (-inf for IP, +inf for L2) and id -1.
 */
EXPORT(rerank_topk)
void rerank_topk(const float *scores, const int32_t *ids, int32_t nq, int32_t w, int32_t k, int32_t metric,
                 float *out_d, int32_t *out_i) {
  const int ip = metric == METRIC_IP;
  for (int i = 0; i < nq; i++) {
    float *td = out_d + (size_t)i * k;
    int32_t *ti = out_i + (size_t)i * k;
    int filled = 0;
    for (int j = i * w; j < (i + 1) * w; j++) {
      int32_t id = ids[j];
      if (id < 0) continue;
      float s = scores[j];
      if (s != s) continue;
      int p = filled;
      while (p > 0) {
        float e = td[p - 1];
        if (!(ip ? s > e : s < e) && !(s == e && id < ti[p - 1])) break;
        p--;
      }
      if (p >= k) continue;
      for (int t = (filled < k - 1 ? filled : k - 1); t > p; t--) {
        td[t] = td[t - 1];
        ti[t] = ti[t - 1];
      }
      td[p] = s;
      ti[p] = id;
      if (filled < k) filled++;
    }
    for (int j = filled; j < k; j++) {
      td[j] = ip ? -__builtin_inff() : __builtin_inff();
      ti[j] = -1;
    }
  }
}

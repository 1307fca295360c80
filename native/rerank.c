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

/*
 * HNSW graph with FAISS IndexHNSWFlat semantics (faiss/impl/HNSW.cpp, IndexHNSW.cpp):
 *  - level assignment: mt19937 seeded like FAISS (12345), probabilities exp(-l/mL)(1-exp(-1/mL)),
 *    mL = 1/ln(M), drawn as FAISS's RandomGenerator::rand_float does;
 *  - node i's neighbour slots at level l are FAISS's [offsets[i] + cum[l], offsets[i] + cum[l+1]),
 *    with 2M slots on level 0 and M above, -1 for empty slots; FAISS's levels and offsets are kept
 *    as they are, its neighbors array split in two (see slots()), so files map in and out with a
 *    copy per node (src/wasm/hnsw-index.ts);
 *  - adds go level bucket by level bucket, highest first, each bucket in a random order (FAISS's
 *    rng2(789)), linking with the neighbour-selection heuristic of the HNSW paper as FAISS does;
 *  - search: greedy descent on upper levels, then FAISS's search_from_candidates on level 0 with
 *    a bounded candidate heap of max(efSearch, k) and its relative-distance stopping rule.
 * Distances are "smaller is better": squared L2, or the negated inner product for IP.
 * The threads build guards each node's list with a spin lock (FAISS uses one omp lock per node).
 */
#include "tessera.h"

/* Most slots one node has on one level: 2M on level 0 with M <= 512 (the factory's limit). */
#define MAX_SLOTS 1024

typedef struct {
  int32_t d, M, metric, ntotal;                              /* words 0..3 */
  int32_t max_level, entry_point, ef_construction, nlevels;  /* 4..7 */
  const float *vectors;                                      /* 8: ntotal x d */
  int32_t *levels;                                           /* 9: per node, top level + 1 */
  uint32_t *offsets;                                         /* 10: ntotal + 1 */
  int32_t *neighbors;                                        /* 11: upper-level slots (see slots()) */
  int32_t *locks;                                            /* 12: one word per node */
  int32_t global_lock, counter, mti;                         /* 13..15 */
  int32_t cum[32];                                           /* 16..47: cum_nneighbor_per_level */
  double probas[32];                                         /* bytes 192..447: assign_probas */
  uint32_t mt[624];                                          /* bytes 448..: mt19937 state */
  int32_t *l0;                                               /* byte 2944: level-0 slots, 2M per node */
} hnsw_t;

_Static_assert(__builtin_offsetof(hnsw_t, cum) == 64, "layout shared with hnsw-index.ts");
_Static_assert(__builtin_offsetof(hnsw_t, probas) == 192, "layout shared with hnsw-index.ts");
_Static_assert(__builtin_offsetof(hnsw_t, mt) == 448, "layout shared with hnsw-index.ts");
_Static_assert(__builtin_offsetof(hnsw_t, l0) == 2944, "layout shared with hnsw-index.ts");

EXPORT(hnsw_struct_bytes) int32_t hnsw_struct_bytes(void) { return (int32_t)sizeof(hnsw_t); }

/* ---- locks (no-ops in the single-threaded build) ---- */
#ifdef __wasm_atomics__
static inline void lock(int32_t *l) {
  while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
    while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
    }
}
static inline void unlock(int32_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }
static inline int32_t take(int32_t *counter, int32_t n) { return __atomic_fetch_add(counter, n, __ATOMIC_RELAXED); }
#else
static inline void lock(int32_t *l) { (void)l; }
static inline void unlock(int32_t *l) { (void)l; }
static inline int32_t take(int32_t *counter, int32_t n) {
  int32_t v = *counter;
  *counter = v + n;
  return v;
}
#endif

/* ---- mt19937, as std::mt19937 (FAISS RandomGenerator) ---- */
static void mt_seed(uint32_t *mt, int32_t *mti, uint32_t seed) {
  mt[0] = seed;
  for (int i = 1; i < 624; i++) mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint32_t)i;
  *mti = 624;
}

static uint32_t mt_next(uint32_t *mt, int32_t *mti) {
  if (*mti >= 624) {
    for (int i = 0; i < 624; i++) {
      uint32_t y = (mt[i] & 0x80000000u) | (mt[(i + 1) % 624] & 0x7fffffffu);
      mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    *mti = 0;
  }
  uint32_t y = mt[(*mti)++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

EXPORT(hnsw_seed) void hnsw_seed(hnsw_t *h, uint32_t seed) { mt_seed(h->mt, &h->mti, seed); }

/* FAISS HNSW::random_level: rand_float() = mt() / float(mt.max()), compared in double. */
static int random_level(hnsw_t *h) {
  double f = (float)mt_next(h->mt, &h->mti) / 4294967296.0f;
  for (int l = 0; l < h->nlevels; l++) {
    if (f < h->probas[l]) return l;
    f -= h->probas[l];
  }
  return h->nlevels - 1;
}

/* Draws levels (stored as level + 1) for nodes [n0, n0 + n); returns the highest level drawn. */
EXPORT(hnsw_assign_levels) int32_t hnsw_assign_levels(hnsw_t *h, int32_t n0, int32_t n) {
  int32_t top = -1;
  for (int32_t i = n0; i < n0 + n; i++) {
    int l = random_level(h);
    h->levels[i] = l + 1;
    if (l > top) top = l;
  }
  return top;
}

/* offsets[i + 1] = offsets[i] + cum[levels[i]] for new nodes; returns offsets[n0 + n]. */
EXPORT(hnsw_fill_offsets) uint32_t hnsw_fill_offsets(hnsw_t *h, int32_t n0, int32_t n) {
  for (int32_t i = n0; i < n0 + n; i++) h->offsets[i + 1] = h->offsets[i] + (uint32_t)h->cum[h->levels[i]];
  return h->offsets[n0 + n];
}

/*
 * FAISS hnsw_add_vertices' insertion order for nodes [n0, n0 + n): bucket by level, then each
 * bucket (highest first) shuffled with a fresh mt19937(perm_seed). hist gets nodes per level;
 * returns the number of levels in hist.
 */
EXPORT(hnsw_make_order)
int32_t hnsw_make_order(hnsw_t *h, int32_t n0, int32_t n, int32_t *order, int32_t *hist, uint32_t *mt2, uint32_t perm_seed) {
  int32_t nh = 0;
  for (int i = 0; i < 32; i++) hist[i] = 0;
  for (int32_t i = 0; i < n; i++) {
    int l = h->levels[n0 + i] - 1;
    hist[l]++;
    if (l + 1 > nh) nh = l + 1;
  }
  int32_t off[33];
  off[0] = 0;
  for (int l = 0; l < nh; l++) off[l + 1] = off[l] + hist[l];
  for (int32_t i = 0; i < n; i++) order[off[h->levels[n0 + i] - 1]++] = n0 + i;
  int32_t mti;
  mt_seed(mt2, &mti, perm_seed);
  int32_t i1 = n;
  for (int l = nh - 1; l >= 0; l--) {
    int32_t i0 = i1 - hist[l];
    for (int32_t j = i0; j < i1; j++) {
      int32_t r = j + (int32_t)(mt_next(mt2, &mti) % (uint32_t)(i1 - j));
      int32_t t = order[j];
      order[j] = order[r];
      order[r] = t;
    }
    i1 = i0;
  }
  return nh;
}

/* ---- distances ---- */
static inline const float *vec(const hnsw_t *h, int32_t i) { return h->vectors + (size_t)i * h->d; }
static inline float qdis(const hnsw_t *h, const float *q, int32_t i) { return dist_min(h->metric, q, vec(h, i), h->d); }

/* Distances from q to nodes ids[0..n) into out[0..n), four at a time. */
static inline void qdis_many(const hnsw_t *h, const float *q, const int32_t *ids, int n, float *out) {
  int i = 0;
  for (; i + 4 <= n; i += 4) dist_min4(h->metric, q, vec(h, ids[i]), vec(h, ids[i + 1]), vec(h, ids[i + 2]), vec(h, ids[i + 3]), h->d, out + i);
  if (i < n) {
    /* 1-3 left: one 4-way call with the last row repeated (cache hits) beats separate misses */
    const float *b0 = vec(h, ids[i]);
    const float *b1 = i + 1 < n ? vec(h, ids[i + 1]) : b0;
    const float *b2 = i + 2 < n ? vec(h, ids[i + 2]) : b1;
    float t[4];
    dist_min4(h->metric, q, b0, b1, b2, b2, h->d, t);
    for (int j = 0; i + j < n; j++) out[i + j] = t[j];
  }
}

/*
 * Node i's neighbour slots at `level` (count in *n). Level 0, where searches spend their time, lives
 * in its own array at a fixed stride of 2M (one memory access finds a node's list, where FAISS's
 * layout needs offsets[i] first). `neighbors` holds the upper levels alone, in FAISS's order: node
 * i's start there is offsets[i] less the 2M level-0 slots of each node before it (cum[1] = 2M).
 * Keeping FAISS's level-0 slots as well would cost 8M bytes per node for nothing (256 at M = 32,
 * 8% of a d = 768 vector), memory one 4 GiB instance lacks.
 */
static inline int32_t *slots(const hnsw_t *h, int32_t i, int level, uint32_t *n) {
  const uint32_t l0 = 2 * (uint32_t)h->M;
  if (level == 0) {
    *n = l0;
    return h->l0 + (size_t)i * l0;
  }
  *n = (uint32_t)(h->cum[level + 1] - h->cum[level]);
  return h->neighbors + (h->offsets[i] - (uint32_t)i * l0 + ((uint32_t)h->cum[level] - l0));
}

/*
 * The one neighbour scan of every graph walk (greedy descent, construction beam, search beam): the
 * slots of `node` at `level` up to the first empty one, minus those already stamped in `visited`
 * (NULL: keep all, as the greedy descent does), stamped now, into ids[]; their distances to q into
 * ds[]. Returns the count. Before the distances, one load touches the head of each vector: the
 * loads are independent, so their cache misses overlap (WebAssembly has no prefetch instruction),
 * and the 4-way distance kernel then finds the rows' first lines arriving or in cache.
 */
static inline int expand(const hnsw_t *h, const float *q, int32_t node, int level, uint8_t *visited, uint8_t visno, int32_t *ids,
                         float *ds, uint32_t *sink) {
  uint32_t cnt;
  const int32_t *nb = slots(h, node, level, &cnt);
  int n = 0;
  if (visited) {
    for (uint32_t j = 0; j < cnt; j++) {
      int32_t v = nb[j];
      if (v < 0) break;
      if (visited[v] == visno) continue;
      visited[v] = visno;
      ids[n++] = v;
    }
  } else {
    for (uint32_t j = 0; j < cnt; j++) {
      int32_t v = nb[j];
      if (v < 0) break;
      ids[n++] = v;
    }
  }
  uint32_t t = 0;
  const int lines = h->d >= 128 ? 8 : (h->d + 15) / 16;
  for (int i = 0; i < n; i++) {
    const uint32_t *p = (const uint32_t *)vec(h, ids[i]);
    for (int l = 0; l < lines; l++) t ^= p[16 * l];
  }
  *sink ^= t;
  qdis_many(h, q, ids, n, ds);
  return n;
}

/* ---- per-thread scratch, carved from one buffer the caller sizes with hnsw_scratch_bytes ---- */
typedef struct {
  uint8_t *visited;
  int32_t visno;
  uint32_t sink; /* where expand()'s touch loads go, so the compiler keeps them */
  int32_t ccap; /* candidate heap capacity */
  float *cd;
  int32_t *ci; /* candidates */
  float *rd;
  int32_t *ri; /* results */
  float *sd;
  int32_t *si; /* sorted / selected lists */
  float *od;
  int32_t *oi;
} scratch_t;

static inline size_t a16(size_t x) { return (x + 15) & ~(size_t)15; }

/* Bytes of scratch for a graph of `capacity` nodes, beam width `ef` (max of efConstruction/efSearch, k) and M. */
EXPORT(hnsw_scratch_bytes) uint32_t hnsw_scratch_bytes(int32_t capacity, int32_t ef, int32_t M) {
  size_t ccap = 2 * (size_t)ef + 8 * (size_t)M + 64;
  size_t lists = (size_t)ef + 2 * (size_t)M + 8;
  return (uint32_t)(a16(capacity) + 2 * a16(ccap * 4) + 2 * a16(((size_t)ef + 2) * 4) + 4 * a16(lists * 4) + 64);
}

static scratch_t carve(uint8_t *p, int32_t capacity, int32_t ef, int32_t M) {
  scratch_t s;
  size_t ccap = 2 * (size_t)ef + 8 * (size_t)M + 64;
  size_t lists = (size_t)ef + 2 * (size_t)M + 8;
  s.visno = *(int32_t *)p;
  s.sink = 0;
  p += 64;
  s.visited = p;
  p += a16(capacity);
  s.ccap = (int32_t)ccap;
  s.cd = (float *)p;
  p += a16(ccap * 4);
  s.ci = (int32_t *)p;
  p += a16(ccap * 4);
  s.rd = (float *)p;
  p += a16(((size_t)ef + 2) * 4);
  s.ri = (int32_t *)p;
  p += a16(((size_t)ef + 2) * 4);
  s.sd = (float *)p;
  p += a16(lists * 4);
  s.si = (int32_t *)p;
  p += a16(lists * 4);
  s.od = (float *)p;
  p += a16(lists * 4);
  s.oi = (int32_t *)p;
  return s;
}

/* FAISS VisitedTable::advance: a new stamp per search; clear every 250. */
static void advance(scratch_t *s, int32_t capacity) {
  s->visno++;
  if (s->visno >= 250) {
    __builtin_memset(s->visited, 0, (size_t)capacity);
    s->visno = 1;
  }
}

/* ---- graph search pieces ---- */
static void greedy_update_nearest(const hnsw_t *h, scratch_t *s, const float *q, int level, int32_t *nearest, float *d_nearest) {
  for (;;) {
    int32_t prev = *nearest;
    int32_t ids[MAX_SLOTS];
    float ds[MAX_SLOTS];
    int n = expand(h, q, prev, level, 0, 0, ids, ds, &s->sink);
    for (int i = 0; i < n; i++) {
      if (ds[i] < *d_nearest) {
        *nearest = ids[i];
        *d_nearest = ds[i];
      }
    }
    if (*nearest == prev) return;
  }
}

/*
 * std::priority_queue of (distance, id) as FAISS's build uses them (libstdc++'s push_heap and
 * pop_heap, compared on the distance alone): `far` orders NodeDistCloser (the farthest on top),
 * else NodeDistFarther (the nearest on top). Equal distances leave the order those algorithms give,
 * not an order by id, so duplicate vectors link as FAISS links them: ordering them by id made every
 * full list keep its lowest ids and drop the newcomer, leaving later copies unreachable.
 */
static inline int pq_less(int far, float a, float b) { return far ? a < b : a > b; }

/* libstdc++'s __push_heap: (v, vi) rises from `hole` to its place. */
static void pq_sift_up(int far, float *d, int32_t *id, int hole, float v, int32_t vi) {
  while (hole > 0) {
    int parent = (hole - 1) / 2;
    if (!pq_less(far, d[parent], v)) break;
    d[hole] = d[parent];
    id[hole] = id[parent];
    hole = parent;
  }
  d[hole] = v;
  id[hole] = vi;
}

/* push_heap after d[n], id[n] were appended (emplace). */
static void pq_push(int far, float *d, int32_t *id, int n) { pq_sift_up(far, d, id, n, d[n], id[n]); }

/* pop_heap over n entries: the top moves to n - 1 (then dropped by the caller: pop). */
static void pq_pop(int far, float *d, int32_t *id, int n) {
  if (n <= 1) return;
  int len = n - 1;
  float v = d[len];
  int32_t vi = id[len];
  d[len] = d[0];
  id[len] = id[0];
  int hole = 0, second = 0;
  while (second < (len - 1) / 2) {
    second = 2 * (second + 1);
    if (pq_less(far, d[second], d[second - 1])) second--;
    d[hole] = d[second];
    id[hole] = id[second];
    hole = second;
  }
  if ((len & 1) == 0 && second == (len - 2) / 2) {
    second = 2 * (second + 1);
    d[hole] = d[second - 1];
    id[hole] = id[second - 1];
    hole = second - 1;
  }
  pq_sift_up(far, d, id, hole, v, vi);
}

/* Drops candidates that can no longer be expanded (farther than the worst kept result). */
static int compact_candidates(scratch_t *s, int nc, float worst) {
  int m = 0;
  for (int i = 0; i < nc; i++)
    if (s->cd[i] <= worst) {
      s->cd[m] = s->cd[i];
      s->ci[m] = s->ci[i];
      pq_push(0, s->cd, s->ci, m);
      m++;
    }
  return m;
}

/*
 * FAISS search_neighbors_to_add: beam search of width efConstruction at `level` from `entry`.
 * Leaves the results in s->sd/si as FAISS's priority_queue<NodeDistCloser> holds them; returns
 * their count.
 */
static int search_neighbors_to_add(const hnsw_t *h, scratch_t *s, const float *q, int32_t entry, float d_entry, int level,
                                   int32_t capacity) {
  int ef = h->ef_construction;
  /* candidates: NodeDistFarther (nearest on top); results: NodeDistCloser (farthest on top) */
  int nc = 0, nr = 0;
  s->cd[nc] = d_entry;
  s->ci[nc] = entry;
  pq_push(0, s->cd, s->ci, nc++);
  s->rd[nr] = d_entry;
  s->ri[nr] = entry;
  pq_push(1, s->rd, s->ri, nr++);
  s->visited[entry] = (uint8_t)s->visno;
  while (nc > 0) {
    float dc = s->cd[0];
    int32_t cur = s->ci[0];
    if (dc > s->rd[0]) break;
    pq_pop(0, s->cd, s->ci, nc--);
    int32_t ids[MAX_SLOTS];
    float ds[MAX_SLOTS];
    int n = expand(h, q, cur, level, s->visited, (uint8_t)s->visno, ids, ds, &s->sink);
    for (int i = 0; i < n; i++) {
      int32_t v = ids[i];
      float dv = ds[i];
      if (nr < ef || s->rd[0] > dv) {
        s->rd[nr] = dv;
        s->ri[nr] = v;
        pq_push(1, s->rd, s->ri, nr++);
        if (nc == s->ccap) nc = compact_candidates(s, nc, s->rd[0]);
        if (nc < s->ccap) {
          s->cd[nc] = dv;
          s->ci[nc] = v;
          pq_push(0, s->cd, s->ci, nc++);
        }
        if (nr > ef) pq_pop(1, s->rd, s->ri, nr--);
      }
    }
  }
  advance(s, capacity);
  for (int i = 0; i < nr; i++) {
    s->sd[i] = s->rd[i];
    s->si[i] = s->ri[i];
  }
  return nr;
}

/*
 * FAISS ::shrink_neighbor_list on a priority_queue<NodeDistCloser> in (d, id, n) (d: distances to
 * the base point), in place: with fewer than max_size entries nothing changes; else its entries go
 * nearest first (through a NodeDistFarther queue in od/oi) and a candidate is kept only if it is
 * closer to the base point than to every one kept before (HNSW::shrink_neighbor_list), at most
 * max_size; the kept ones are emplaced back in that order. Returns the new count.
 */
static int shrink(const hnsw_t *h, float *d, int32_t *id, int n, float *od, int32_t *oi, int max_size) {
  if (n < max_size) return n;
  int nf = 0;
  while (n > 0) {
    od[nf] = d[0];
    oi[nf] = id[0];
    pq_push(0, od, oi, nf++);
    pq_pop(1, d, id, n--);
  }
  /* the kept list grows in d/id (empty now) */
  int m = 0;
  while (nf > 0 && m < max_size) {
    float dq = od[0];
    int32_t v = oi[0];
    pq_pop(0, od, oi, nf--);
    int good = 1;
    const float *v1 = vec(h, v);
    for (int j = 0; j < m; j++) {
      if (dist_min(h->metric, v1, vec(h, id[j]), h->d) < dq) {
        good = 0;
        break;
      }
    }
    if (good) {
      d[m] = dq;
      id[m] = v;
      m++;
    }
  }
  for (int j = 1; j < m; j++) pq_push(1, d, id, j);
  return m;
}

/* FAISS add_link: dest into src's list at level; when full, re-select with the heuristic. */
static void add_link(hnsw_t *h, scratch_t *s, int32_t src, int32_t dest, int level) {
  uint32_t b = 0, e;
  int32_t *nb = slots(h, src, level, &e);
  if (nb[e - 1] == -1) {
    uint32_t i = e;
    while (i > b && nb[i - 1] == -1) i--;
    nb[i] = dest;
    return;
  }
  const float *vs = vec(h, src);
  int n = 0;
  s->sd[n] = dist_min(h->metric, vs, vec(h, dest), h->d);
  s->si[n] = dest;
  pq_push(1, s->sd, s->si, n++);
  for (uint32_t i = b; i < e; i++) {
    s->sd[n] = dist_min(h->metric, vs, vec(h, nb[i]), h->d);
    s->si[n] = nb[i];
    pq_push(1, s->sd, s->si, n++);
  }
  int m = shrink(h, s->sd, s->si, n, s->od, s->oi, (int)(e - b));
  /* FAISS pops its queue into the slots: farthest first */
  uint32_t i = b;
  while (m > 0) {
    nb[i++] = s->si[0];
    pq_pop(1, s->sd, s->si, m--);
  }
  while (i < e) nb[i++] = -1;
}

/* FAISS add_links_starting_from: link pt at `level`, starting the beam at nearest. */
static void add_links_starting_from(hnsw_t *h, scratch_t *s, const float *q, int32_t pt, int32_t nearest, float d_nearest,
                                    int level, int32_t capacity) {
  int nr = search_neighbors_to_add(h, s, q, nearest, d_nearest, level, capacity);
  int max_size = level == 0 ? 2 * h->M : h->M;
  int m = shrink(h, s->sd, s->si, nr, s->od, s->oi, max_size);
  /* FAISS links the selection in its queue's pop order (farthest first); add_link reuses sd/si/od/oi */
  int32_t sel[m > 0 ? m : 1];
  for (int j = 0; j < m; j++) {
    sel[j] = s->si[0];
    pq_pop(1, s->sd, s->si, m - j);
  }
  for (int j = 0; j < m; j++) add_link(h, s, pt, sel[j], level);
  unlock(&h->locks[pt]);
  for (int j = 0; j < m; j++) {
    lock(&h->locks[sel[j]]);
    add_link(h, s, sel[j], pt, level);
    unlock(&h->locks[sel[j]]);
  }
  lock(&h->locks[pt]);
}

/* FAISS HNSW::add_with_locks for node pt at pt_level (its vector already stored). */
static void add_with_locks(hnsw_t *h, scratch_t *s, int32_t pt, int pt_level, int32_t capacity) {
  lock(&h->global_lock);
  int32_t nearest = h->entry_point;
  if (nearest == -1) {
    h->max_level = pt_level;
    h->entry_point = pt;
  }
  int level = h->max_level;
  unlock(&h->global_lock);
  if (nearest < 0) return;
  const float *q = vec(h, pt);
  lock(&h->locks[pt]);
  float d_nearest = qdis(h, q, nearest);
  for (; level > pt_level; level--) greedy_update_nearest(h, s, q, level, &nearest, &d_nearest);
  for (; level >= 0; level--) add_links_starting_from(h, s, q, pt, nearest, d_nearest, level, capacity);
  unlock(&h->locks[pt]);
  lock(&h->global_lock);
  if (pt_level > h->max_level) {
    h->max_level = pt_level;
    h->entry_point = pt;
  }
  unlock(&h->global_lock);
}

/*
 * Adds order[i] for i in [i0, i1) (all of level pt_level). With `shared` set, threads take chunks
 * from h->counter (the caller sets it to i0) so several threads share one bucket.
 */
EXPORT(hnsw_add_range)
void hnsw_add_range(hnsw_t *h, const int32_t *order, int32_t i0, int32_t i1, int32_t pt_level, uint8_t *scratch,
                    int32_t capacity, int32_t shared) {
  int ef = h->ef_construction > 2 * h->M ? h->ef_construction : 2 * h->M;
  scratch_t s = carve(scratch, capacity, ef, h->M);
  if (s.visno <= 0) s.visno = 1;
  if (!shared) {
    for (int32_t i = i0; i < i1; i++) add_with_locks(h, &s, order[i], pt_level, capacity);
  } else {
    const int32_t chunk = 8;
    for (;;) {
      int32_t a = take(&h->counter, chunk);
      if (a >= i1) break;
      int32_t b = a + chunk < i1 ? a + chunk : i1;
      for (int32_t i = a; i < b; i++) add_with_locks(h, &s, order[i], pt_level, capacity);
    }
  }
  *(int32_t *)scratch = s.visno;
  ((uint32_t *)scratch)[1] = s.sink;
}

/* ---- search ---- */

/*
 * FAISS MinimaxHeap pop_min: removes (id := -1, distance kept for count_below) and returns the
 * nearest valid entry, -1 if none. The minimum is found with SIMD over the whole array (the heap's
 * buffer has room past n, and lanes past n are masked), then located by a short scan.
 */
static int32_t minimax_pop_min(float *dis, int32_t *ids, int n, int *nvalid, float *out) {
  if (*nvalid <= 0) return -1;
  const v128_t inf = wasm_f32x4_splat(__builtin_inff()), none = wasm_i32x4_splat(-1), limit = wasm_i32x4_splat(n);
  v128_t lane = wasm_i32x4_make(0, 1, 2, 3), best = inf;
  for (int i = 0; i < n; i += 4) {
    v128_t invalid = wasm_v128_or(wasm_i32x4_eq(wasm_v128_load(ids + i), none), wasm_i32x4_ge(lane, limit));
    best = wasm_f32x4_min(best, wasm_v128_bitselect(inf, wasm_v128_load(dis + i), invalid));
    lane = wasm_i32x4_add(lane, wasm_i32x4_splat(4));
  }
  best = wasm_f32x4_min(best, wasm_i32x4_shuffle(best, best, 2, 3, 0, 1));
  best = wasm_f32x4_min(best, wasm_i32x4_shuffle(best, best, 1, 0, 3, 2));
  float vmin = wasm_f32x4_extract_lane(best, 0);
  for (int i = 0; i < n; i++) {
    if (ids[i] != -1 && dis[i] == vmin) {
      *out = vmin;
      int32_t r = ids[i];
      ids[i] = -1;
      (*nvalid)--;
      return r;
    }
  }
  return -1;
}

/* FAISS MinimaxHeap count_below: entries (popped ones included) with distance < d0. */
static inline int count_below(const float *dis, int n, float d0) {
  v128_t t = wasm_f32x4_splat(d0), acc = wasm_i32x4_splat(0);
  int i = 0;
  for (; i + 4 <= n; i += 4) acc = wasm_i32x4_sub(acc, wasm_f32x4_lt(wasm_v128_load(dis + i), t));
  int c = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
          wasm_i32x4_extract_lane(acc, 3);
  for (; i < n; i++) c += dis[i] < d0;
  return c;
}

static inline void result_offer(float *D, int32_t *I, int *nres, int k, float d, int32_t v) {
  if (*nres < k) heap_push(D, I, (*nres)++, d, v);
  else if (heap_worse(D[0], I[0], d, v)) heap_replace_top(D, I, *nres, d, v);
}

/*
 * Searches queries [0, nq) (nq x d); writes k results per query into out_d/out_i best first,
 * padded with -1 (IP distances returned as inner products, L2 as squared distances).
 */
EXPORT(hnsw_search)
void hnsw_search(const hnsw_t *h, const float *queries, int32_t nq, int32_t k, int32_t ef_search, float *out_d,
                 int32_t *out_i, uint8_t *scratch, int32_t capacity) {
  int ef = ef_search > k ? ef_search : k;
  scratch_t s = carve(scratch, capacity, ef, h->M);
  if (s.visno <= 0) s.visno = 1;
  const float sign = h->metric == METRIC_IP ? -1.f : 1.f;
  for (int32_t q = 0; q < nq; q++) {
    const float *x = queries + (size_t)q * h->d;
    float *D = out_d + (size_t)q * k;
    int32_t *I = out_i + (size_t)q * k;
    int nres = 0;
    if (h->entry_point >= 0) {
      int32_t nearest = h->entry_point;
      float d_nearest = qdis(h, x, nearest);
      for (int level = h->max_level; level >= 1; level--) greedy_update_nearest(h, &s, x, level, &nearest, &d_nearest);
      /* MinimaxHeap of size ef: a max-heap on distance; popped entries keep their distance, id -1 */
      float *cd = s.cd;
      int32_t *ci = s.ci;
      int nc = 0, nvalid = 0;
      heap_push(cd, ci, nc++, d_nearest, nearest);
      nvalid = 1;
      result_offer(D, I, &nres, k, d_nearest, nearest);
      s.visited[nearest] = (uint8_t)s.visno;
      while (nvalid > 0) {
        float d0;
        int32_t v0 = minimax_pop_min(cd, ci, nc, &nvalid, &d0);
        if (v0 < 0) break;
        if (count_below(cd, nc, d0) >= ef_search) break;
        int32_t ids[MAX_SLOTS];
        float ds[MAX_SLOTS];
        int n = expand(h, x, v0, 0, s.visited, (uint8_t)s.visno, ids, ds, &s.sink);
        for (int i = 0; i < n; i++) {
          int32_t v1 = ids[i];
          float dv = ds[i];
          result_offer(D, I, &nres, k, dv, v1);
          /* MinimaxHeap::push */
          if (nc == ef) {
            if (dv >= cd[0]) continue;
            if (ci[0] != -1) nvalid--;
            nc--;
            cd[0] = cd[nc];
            ci[0] = ci[nc];
            heap_sift_down(cd, ci, nc, 0);
          }
          heap_push(cd, ci, nc++, dv, v1);
          nvalid++;
        }
      }
      advance(&s, capacity);
    }
    heap_sort_best_first(D, I, nres);
    for (int j = 0; j < nres; j++) D[j] *= sign;
    for (int j = nres; j < k; j++) {
      D[j] = h->metric == METRIC_IP ? -__builtin_inff() : __builtin_inff();
      I[j] = -1;
    }
  }
  *(int32_t *)scratch = s.visno;
  ((uint32_t *)scratch)[1] = s.sink;
}

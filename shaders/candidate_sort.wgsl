//! candidate_sort: the sort of the candidate buffers, the body shared by int8_gemv's and
//! flat_gemv_multi's flush (`//#include candidate_sort` inside it, with li, nq and n2 in scope): the
//! kernel declares workgroup arrays hk / hid (SP slots a query), atomic counts cnt, WG and SP, and
//! includes flat_order (src/gpu/wgsl-include.ts; `//!` lines are not copied).
  for (var e = li; e < nq * n2; e += WG) {
    let q = e / n2;
    let i = e % n2;
    if (i >= atomicLoad(&cnt[q])) {
      hk[q * SP + i] = negInf();
      hid[q * SP + i] = EMPTY_ID;
    }
  }
  workgroupBarrier();
  let half = n2 / 2u;
  for (var size = 2u; size <= n2; size *= 2u) {
    for (var stride = size / 2u; stride > 0u; stride /= 2u) {
      for (var t = li; t < nq * half; t += WG) {
        let u = t % half;
        let a = (u / stride) * stride * 2u + u % stride;
        let ia = (t / half) * SP + a;
        let ib = ia + stride;
        let ka = hk[ia];
        let kb = hk[ib];
        let da = hid[ia];
        let db = hid[ib];
        // Best first where bit `size` of a is clear, worst first where set (bitonic merge).
        let bBetter = better(kb, db, ka, da);
        if (select(!bBetter && (ka != kb || da != db), bBetter, (a & size) == 0u)) {
          hk[ia] = kb;
          hid[ia] = db;
          hk[ib] = ka;
          hid[ib] = da;
        }
      }
      workgroupBarrier();
    }
  }

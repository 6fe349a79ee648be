// The score phase of decode attention (attn_decode.comp, attn_decode_split.comp): scores[sb + t] =
// scale * q[qb ..] . K[t, kvh] for t in [t0, t1), then exp(score - max) in place. Included after the
// bindings q, k_cache, scores and the push block p (head_dim, kv_stride, k_offset, scale).
//
// LANES invocations take one position, each a strided part of head_dim, their partial dots summed through
// shared memory. With one lane per position (CPU implementations) an invocation walks a whole K row: on a
// GPU the lanes of a subgroup then read 32 different cache lines per load and each runs a serial
// head_dim-long chain (the H200 spent ~23 us per layer there at ~40 positions); with 8 lanes neighbouring
// invocations read neighbouring values and each chain is head_dim / 8 long.
layout(constant_id = 2) const uint LANES = 1;  // a power of two dividing WG_SIZE
shared float dot_part[WG_SIZE];

// Returns the largest score among the positions this invocation owns (-inf if none); call from uniform
// control flow (t0, t1 uniform). The owner of position t (lane 0 of its group) alone writes scores[sb + t].
float score_range(uint t0, uint t1, uint qb, uint kvh, uint sb) {
  const uint tid = gl_LocalInvocationID.x, per = WG_SIZE / LANES, slot = tid / LANES, j = tid % LANES;
  float m = -1.0 / 0.0;
  for (uint base = t0; base < t1; base += per) {
    const uint t = base + slot;
    float sc = 0.0;
    if (t < t1) {
      const uint kb = p.k_offset + t * p.kv_stride + kvh * p.head_dim;
      for (uint d = j; d < p.head_dim; d += LANES) sc += q[qb + d] * unpackHalf2x16(uint(k_cache[kb + d])).x;
    }
    if (LANES > 1) {
      dot_part[tid] = sc;
      barrier();
      if (j == 0)
        for (uint i = 1; i < LANES; ++i) sc += dot_part[tid + i];
      barrier();
    }
    if (j == 0 && t < t1) {
      sc *= p.scale;
      scores[sb + t] = sc;
      m = max(m, sc);
    }
  }
  return m;
}

// scores[sb + t] := exp(scores[sb + t] - m) by the same owners (no cross-invocation read before the
// caller's barrier); returns this invocation's sum.
float exp_range(uint t0, uint t1, uint sb, float m) {
  const uint tid = gl_LocalInvocationID.x, per = WG_SIZE / LANES, slot = tid / LANES, j = tid % LANES;
  float l = 0.0;
  if (j != 0) return l;
  for (uint t = t0 + slot; t < t1; t += per) {
    const float e = exp(scores[sb + t] - m);
    scores[sb + t] = e;
    l += e;
  }
  return l;
}

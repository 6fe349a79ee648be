// mul_mv.comp's row-per-lane path for CPU implementations (ROW_LANES 1; Q4_K, Q5_K, Q6_K, Q8_0 and F16
// modules built with A_INT64). A workgroup is one subgroup of 8 lanes (lavapipe's SIMD width); lane i
// computes the whole of rows row0 + i + 8 r (r < RPI), so no reduction is needed, and every lane reads the same x values at the same
// time: offsets made only of push constants, the workgroup index and loop counters, which lavapipe loads
// once for all lanes (a scalar load and a broadcast) instead of one lane after the other.
// Why (docs/vulkan.md, "What a load costs on lavapipe"): lavapipe runs a storage-buffer load whose offset
// varies over the lanes as a loop over the 8 lanes, one scalar load per component, so a product costs about
// its load components per weight. The lane-striding path (mul_mv.comp) reads x once per lane and Q6_K by
// 32-bit words; here x is uniform and Q6_K comes in 8-byte words, and 4 rows per lane share each x load.
// Measured and not kept: x loaded once per workgroup, each lane a part, and handed round by
// subgroupBroadcast (slower than the uniform loads on Mesa 22.3: Q4_K 0.68 GB/s per CPU-second against 0.85).

// Rows per lane (Ops::mul_mv: NUM_ROWS a multiple of WG_SIZE = 8); at least 1 also in the pipelines of the
// other paths, which compile this code too.
const uint RPI = (NUM_ROWS + WG_SIZE - 1) / WG_SIZE;

// Stores one output row; returns its square where it carries the norm (NORM_CARRY 1), else 0.
float row_lanes_store(uint row, float v) {
  if (row < p.nrows) {
    if ((p.flags & 1u) != 0) v += bias[p.bias_offset + row];
    if ((p.flags & 2u) != 0) v += y[p.y_offset + row];
    y[p.y_offset + row] = v;
    return carry_row(row, v);
  }
  return 0.0;
}

// With SWIGLU (mul_mv.comp), a lane's RPI rows (even: Ops::mul_mv) are RPI / 2 gate rows and their up rows
// (p.nrows further on): the lane pairs them at the end, one output each. Lane row r of the lane's rows:
// the row of A it reads (rows past the end read the last row and store nothing).
const uint RPI_OUT = SWIGLU != 0 ? RPI / 2 : RPI;
uint lane_row(uint row0, uint tid, uint r) {
  const uint o = min(row0 + tid + (r % RPI_OUT) * WG_SIZE, p.nrows - 1);
  return SWIGLU != 0 && r >= RPI_OUT ? o + p.nrows : o;
}
// Every lane of the workgroup calls it (the carried norm's reductions); NORM_CARRY as in mul_mv.comp.
void row_lanes_store_all(uint row0, uint tid, float acc[RPI]) {
  const float cs = carried_scale();
  float ss = 0.0;
  [[unroll]] for (uint r = 0; r < RPI_OUT; ++r)
    ss += row_lanes_store(row0 + tid + r * WG_SIZE, SWIGLU != 0 ? silu_mul(acc[r] * cs, acc[RPI_OUT + r] * cs) : acc[r] * cs);
  if (NORM_CARRY == 1) carry_partial(wg_sum(ss));
}

#if defined(DATA_A_Q4_K) || defined(DATA_A_Q5_K)
// Q4_K (144-byte blocks, rows 16-byte aligned: Ops::mul_mv checks): per block and row, the header as one
// u64vec2 and each pair of units' 32 quant bytes as two: 18 8-byte components for 256 weights. Q5_K
// (176-byte blocks, the same header, then 32 bytes of fifth bits, then the quants at QS_OFF 48): 22.
// A row's base (row_base) and its block's 16-byte unit k (unit64): plain rows (16-bit words from the
// binding's start) or interleaved ones (A_IL: the row's first texel; blocks are whole texels, 9 for Q4_K,
// 11 for Q5_K: mul_mv_q5_k_il reads the same units as texels).
#if defined(A_IL)
uint row_base(uint row) { return il_row(row); }
u64vec2 unit64(uint rb, uint blk, uint k) { return il_texel64(rb + (blk * (BLOCK_U16 / 8) + k) * 8); }
#else
uint row_base(uint row) { return p.a_offset + row * p.row_stride; }
u64vec2 unit64(uint rb, uint blk, uint k) { return data_a64x2[((rb + blk * BLOCK_U16) >> 3) + k]; }
#endif
void mul_mv_row_lanes(uint row0, uint tid) {
  uint rb[RPI];  // each row's base (rows past the end read the last row and store nothing)
  [[unroll]] for (uint r = 0; r < RPI; ++r) rb[r] = row_base(lane_row(row0, tid, r));
  float acc[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) acc[r] = 0.0;
  const uint nblk = p.ncols / 256;
  for (uint blk = 0; blk < nblk; ++blk) {
    uvec4 hd[RPI];
#if defined(DATA_A_Q5_K)
    uint qh[RPI][8];  // qh[l]: bit u is the fifth bit of unit u's value l
#endif
    [[unroll]] for (uint r = 0; r < RPI; ++r) {
      const u64vec2 h64 = unit64(rb[r], blk, 0);
      hd[r] = uvec4(unpack32(h64.x), unpack32(h64.y));
#if defined(DATA_A_Q5_K)
      const u64vec2 qa = unit64(rb[r], blk, 1), qb = unit64(rb[r], blk, 2);
      qh[r] = uint[8](unpack32(qa.x).x, unpack32(qa.x).y, unpack32(qa.y).x, unpack32(qa.y).y,
                      unpack32(qb.x).x, unpack32(qb.x).y, unpack32(qb.y).x, unpack32(qb.y).y);
#endif
    }
    [[unroll]] for (uint pr = 0; pr < 4; ++pr) {
      // The pair's 64 values, the same in every lane.
      const uint xp = p.x_offset + blk * 256 + pr * 64;
      vec4 xlo[8], xhi[8];
      vec4 xslo = vec4(0.0), xshi = vec4(0.0);
      [[unroll]] for (uint j = 0; j < 8; ++j) {
        xlo[j] = x_quad(xp + j * 4, xa);
        xhi[j] = x_quad(xp + 32 + j * 4, xa);
        xslo += xlo[j];
        xshi += xhi[j];
      }
      const float slo = dot(xslo, vec4(1.0)), shi = dot(xshi, vec4(1.0));
      const uint sh0 = ((2u * pr) & 3u) * 8u, sh1 = sh0 + 8u;
      [[unroll]] for (uint r = 0; r < RPI; ++r) {
        const u64vec2 a64 = unit64(rb[r], blk, QS_OFF / 16 + pr * 2), b64 = unit64(rb[r], blk, QS_OFF / 16 + 1 + pr * 2);
        const uint qw[8] = uint[8](unpack32(a64.x).x, unpack32(a64.x).y, unpack32(a64.y).x, unpack32(a64.y).y,
                                   unpack32(b64.x).x, unpack32(b64.x).y, unpack32(b64.y).x, unpack32(b64.y).y);
        const vec2 dm = unpackHalf2x16(hd[r].x);
        const uint w1 = hd[r].y, w2 = hd[r].z, w3 = hd[r].w;
        uvec4 smu;  // (scale 2pr, min 2pr, scale 2pr+1, min 2pr+1), as in mul_mv.comp
        if (pr < 2) {
          smu = uvec4((w1 >> sh0) & 63u, (w2 >> sh0) & 63u, (w1 >> sh1) & 63u, (w2 >> sh1) & 63u);
        } else {
          smu = uvec4(((w3 >> sh0) & 0xFu) | (((w1 >> sh0) >> 6 & 3u) << 4), ((w3 >> sh0) >> 4 & 0xFu) | (((w2 >> sh0) >> 6 & 3u) << 4),
                      ((w3 >> sh1) & 0xFu) | (((w1 >> sh1) >> 6 & 3u) << 4), ((w3 >> sh1) >> 4 & 0xFu) | (((w2 >> sh1) >> 6 & 3u) << 4));
        }
        const vec4 sm = vec4(ivec4(smu));
        float q0 = 0.0, q1 = 0.0;
        [[unroll]] for (uint j = 0; j < 8; ++j) {
#if defined(DATA_A_Q5_K)
          // The fifth bits of units 2pr and 2pr+1 put above the nibbles before the one conversion.
          q0 += dot(bytes4((qw[j] & 0x0F0F0F0Fu) | (((qh[r][j] >> (2u * pr)) & 0x01010101u) << 4)), xlo[j]);
          q1 += dot(bytes4(((qw[j] >> 4) & 0x0F0F0F0Fu) | (((qh[r][j] >> (2u * pr + 1u)) & 0x01010101u) << 4)), xhi[j]);
#else
          q0 += dot(bytes4(qw[j] & 0x0F0F0F0Fu), xlo[j]);
          q1 += dot(bytes4((qw[j] >> 4) & 0x0F0F0F0Fu), xhi[j]);
#endif
        }
        acc[r] += dm.x * (sm.x * q0 + sm.z * q1) - dm.y * (sm.y * slo + sm.w * shi);
      }
    }
  }
  row_lanes_store_all(row0, tid, acc);
}

#elif defined(DATA_A_Q6_K) && defined(A_IL)
// Q6_K interleaved (Matrix::interleaved): each 210-byte block padded to 14 texels, so that every field is
// whole texels at fixed places: ql (128 bytes) texels 0-7, qh (64) 8-11, scales (16) 12, d texel 13's first
// 2 bytes. Per half block n and row: 4 texels of low nibbles, 2 of high bits and the scales' half: no shifts.
void mul_mv_row_lanes(uint row0, uint tid) {
  uint rb[RPI];  // each row's first texel
  [[unroll]] for (uint r = 0; r < RPI; ++r) rb[r] = il_row(lane_row(row0, tid, r));
  float acc[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) acc[r] = 0.0;
  const uint nblk = p.ncols / 256;
  for (uint blk = 0; blk < nblk; ++blk) {
    float t[RPI][2];  // per row and half: sum of scale * (q . x - 32 sum x) over the half's 8 sub-blocks of 16
    [[unroll]] for (uint n = 0; n < 2; ++n) {
      const uint xh = p.x_offset + blk * 256 + n * 128;
      vec4 xv[32];  // unit k, values 4j .. 4j + 3 at k * 8 + j, the same in every lane
      float xs[8];  // sums of x per 16 values (unit k, half h at k * 2 + h): the -32 offset of every value
      [[unroll]] for (uint k = 0; k < 4; ++k) {
        [[unroll]] for (uint j = 0; j < 8; ++j) xv[k * 8 + j] = x_quad(xh + k * 32 + j * 4, xa);
        xs[k * 2] = dot(xv[k * 8] + xv[k * 8 + 1] + xv[k * 8 + 2] + xv[k * 8 + 3], vec4(1.0));
        xs[k * 2 + 1] = dot(xv[k * 8 + 4] + xv[k * 8 + 5] + xv[k * 8 + 6] + xv[k * 8 + 7], vec4(1.0));
      }
      [[unroll]] for (uint r = 0; r < RPI; ++r) {
        const uint tb = rb[r] + blk * 14 * 8;  // the block's first texel
        u64vec2 l[4], h[2];  // the half's 64 low-nibble bytes and 32 high-bit bytes
        [[unroll]] for (uint i = 0; i < 4; ++i) l[i] = il_texel64(tb + (n * 4 + i) * 8);
        [[unroll]] for (uint i = 0; i < 2; ++i) h[i] = il_texel64(tb + (8 + n * 2 + i) * 8);
        float qa[8];
        [[unroll]] for (uint i = 0; i < 8; ++i) qa[i] = 0.0;
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          // 8 bytes (rounds 2i, 2i + 1) of the first and second 32 low-nibble bytes and of the high bits.
          const uint64_t la64 = (i & 1u) == 0 ? l[i >> 1].x : l[i >> 1].y;
          const uint64_t lb64 = (i & 1u) == 0 ? l[2 + (i >> 1)].x : l[2 + (i >> 1)].y;
          const uint64_t hb64 = (i & 1u) == 0 ? h[i >> 1].x : h[i >> 1].y;
          [[unroll]] for (uint e = 0; e < 2; ++e) {
            const uint j = 2 * i + e, hh = j >> 2;
            const uint la = unpack32(la64)[e], lb = unpack32(lb64)[e], hb = unpack32(hb64)[e];
            qa[0 + hh] += dot(bytes4((la & 0x0F0F0F0Fu) | ((hb << 4) & 0x30303030u)), xv[j]);
            qa[2 + hh] += dot(bytes4((lb & 0x0F0F0F0Fu) | ((hb << 2) & 0x30303030u)), xv[8 + j]);
            qa[4 + hh] += dot(bytes4(((la >> 4) & 0x0F0F0F0Fu) | (hb & 0x30303030u)), xv[16 + j]);
            qa[6 + hh] += dot(bytes4(((lb >> 4) & 0x0F0F0F0Fu) | ((hb >> 2) & 0x30303030u)), xv[24 + j]);
          }
        }
        // scales[n * 8 .. n * 8 + 7]: half n of texel 12.
        const u64vec2 st = il_texel64(tb + 12 * 8);
        const uvec2 sc = unpack32(n == 0 ? st.x : st.y);
        float tt = 0.0;
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          const int w = int(sc[i >> 1] >> ((i & 1u) * 16u));  // scales[n*8 + 2i], [.. + 1]
          tt += float(bitfieldExtract(w, 0, 8)) * (qa[i * 2] - 32.0 * xs[i * 2]) +
                float(bitfieldExtract(w, 8, 8)) * (qa[i * 2 + 1] - 32.0 * xs[i * 2 + 1]);
        }
        t[r][n] = tt;
      }
    }
    [[unroll]] for (uint r = 0; r < RPI; ++r) {
      const float d = unpackHalf2x16(uint(il_texel64(rb[r] + (blk * 14 + 13) * 8).x)).x;
      acc[r] += d * (t[r][0] + t[r][1]);
    }
  }
  row_lanes_store_all(row0, tid, acc);
}

#elif defined(DATA_A_Q6_K)
// Q6_K (210-byte blocks: a block starts at any even byte). Its runs of low nibbles (128 bytes) and high bits
// (64 bytes) are read as the 8-byte words that cover them, each 8 bytes of the run put together from two
// words with a shift of 0, 16, 32 or 48 bits (the extra word of each run lies inside the block: the high
// bits follow the low nibbles, the scales the high bits). The 16 scales come as the 32-bit words that cover
// them and d as a 16-bit word: an 8-byte word there could reach past the end of the binding (the last block
// of the last row). 18 + 10 + 4-6 + 1 components per block and row, instead of 62 (mul_mv.comp's Q6_K
// reads the same way with A_INT64: q6k_runs64 there).
void mul_mv_row_lanes(uint row0, uint tid) {
  uint rb[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) rb[r] = p.a_offset + lane_row(row0, tid, r) * p.row_stride;
  float acc[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) acc[r] = 0.0;
  const uint nblk = p.ncols / 256;
  for (uint blk = 0; blk < nblk; ++blk) {
    float t[RPI][2];  // per row and half: sum of scale * (q . x - 32 sum x) over the half's 8 sub-blocks of 16
    [[unroll]] for (uint n = 0; n < 2; ++n) {
      // The half's 128 values (unit k at k * 32), the same in every lane.
      const uint xh = p.x_offset + blk * 256 + n * 128;
      vec4 xv[32];  // unit k, values 4j .. 4j + 3 at k * 8 + j
      float xs[8];  // sums of x per 16 values (unit k, half h at k * 2 + h): the -32 offset of every value
      [[unroll]] for (uint k = 0; k < 4; ++k) {
        [[unroll]] for (uint j = 0; j < 8; ++j) xv[k * 8 + j] = x_quad(xh + k * 32 + j * 4, xa);
        xs[k * 2] = dot(xv[k * 8] + xv[k * 8 + 1] + xv[k * 8 + 2] + xv[k * 8 + 3], vec4(1.0));
        xs[k * 2 + 1] = dot(xv[k * 8 + 4] + xv[k * 8 + 5] + xv[k * 8 + 6] + xv[k * 8 + 7], vec4(1.0));
      }
      [[unroll]] for (uint r = 0; r < RPI; ++r) {
        const uint bb = rb[r] + blk * BLOCK_U16;  // 16-bit words; the block's byte offset is 2 bb
        const uint s = (bb & 3u) * 16u;
        const uint lw = (bb + n * 32) >> 2, hw = (bb + 64 + n * 16) >> 2;
        uint64_t l64[9], h64[5];
        q6k_runs64(lw, hw, l64, h64);
        float qa[8];
        [[unroll]] for (uint i = 0; i < 8; ++i) qa[i] = 0.0;
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          // 8 bytes (rounds 2i, 2i + 1) of the first and second 32 low-nibble bytes and of the high bits.
          const uint64_t la64 = shifted64(l64[i], l64[i + 1], s), lb64 = shifted64(l64[4 + i], l64[5 + i], s);
          const uint64_t hb64 = shifted64(h64[i], h64[i + 1], s);
          [[unroll]] for (uint e = 0; e < 2; ++e) {
            const uint j = 2 * i + e, h = j >> 2;
            const uint la = unpack32(la64)[e], lb = unpack32(lb64)[e], hb = unpack32(hb64)[e];
            qa[0 + h] += dot(bytes4((la & 0x0F0F0F0Fu) | ((hb << 4) & 0x30303030u)), xv[j]);
            qa[2 + h] += dot(bytes4((lb & 0x0F0F0F0Fu) | ((hb << 2) & 0x30303030u)), xv[8 + j]);
            qa[4 + h] += dot(bytes4(((la >> 4) & 0x0F0F0F0Fu) | (hb & 0x30303030u)), xv[16 + j]);
            qa[6 + h] += dot(bytes4(((lb >> 4) & 0x0F0F0F0Fu) | ((hb >> 2) & 0x30303030u)), xv[24 + j]);
          }
        }
        // scales[n * 8 .. n * 8 + 7] (bytes 192 + 8n ..): the 32-bit words covering them, shifted by 2 bytes
        // where the block starts between words (the third word then ends at most at byte 209 + 8n - 8).
        const uint sw = (bb + 96 + n * 4) >> 1;
        const uint s0 = data_a32[sw], s1 = data_a32[sw + 1];
        uvec2 sc = uvec2(s0, s1);
        if ((bb & 1u) != 0) sc = uvec2((s0 >> 16) | (s1 << 16), (s1 >> 16) | (data_a32[sw + 2] << 16));
        float tt = 0.0;
        [[unroll]] for (uint i = 0; i < 4; ++i) {
          const int w = int(sc[i >> 1] >> ((i & 1u) * 16u));  // scales[n*8 + 2i], [.. + 1]
          tt += float(bitfieldExtract(w, 0, 8)) * (qa[i * 2] - 32.0 * xs[i * 2]) +
                float(bitfieldExtract(w, 8, 8)) * (qa[i * 2 + 1] - 32.0 * xs[i * 2 + 1]);
        }
        t[r][n] = tt;
      }
    }
    [[unroll]] for (uint r = 0; r < RPI; ++r) acc[r] += rdf16(rb[r] + blk * BLOCK_U16, 208) * (t[r][0] + t[r][1]);
  }
  row_lanes_store_all(row0, tid, acc);
}
#elif defined(DATA_A_Q8_0) && defined(A_IL)
// Q8_0 interleaved (Matrix::interleaved): units of 8 blocks as 17 texels, the 8 f16 d's in texel 0 and block
// j's quants in texels 1 + 2j, 2 + 2j: whole texels, no shifts. A quad of blocks (128 values, as the plain
// path below) is half h of a unit: its d's are half h of texel 0, then 8 texels of quants.
void mul_mv_row_lanes(uint row0, uint tid) {
  uint rb[RPI];  // each row's first texel
  [[unroll]] for (uint r = 0; r < RPI; ++r) rb[r] = il_row(lane_row(row0, tid, r));
  float acc[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) acc[r] = 0.0;
  const uint nquad = p.ncols / 128;
  for (uint g = 0; g < nquad; ++g) {
    const uint xq = p.x_offset + g * 128;
    vec4 xv[32];  // block k's values 4j .. 4j + 3 at k * 8 + j, the same in every lane
    [[unroll]] for (uint j = 0; j < 32; ++j) xv[j] = x_quad(xq + j * 4, xa);
    const uint tu = (g >> 1) * 17, h = g & 1u;  // the unit's first texel, the half
    [[unroll]] for (uint r = 0; r < RPI; ++r) {
      const u64vec2 dt = il_texel64(rb[r] + tu * 8);
      const uvec2 dw = unpack32(h == 0u ? dt.x : dt.y);  // the quad's 4 d's
      float t = 0.0;
      [[unroll]] for (uint k = 0; k < 4; ++k) {
        const uint tq = tu + 1 + (h * 4 + k) * 2;
        const u64vec2 a = il_texel64(rb[r] + tq * 8), b = il_texel64(rb[r] + (tq + 1) * 8);
        const uint qw[8] = uint[8](unpack32(a.x).x, unpack32(a.x).y, unpack32(a.y).x, unpack32(a.y).y,
                                   unpack32(b.x).x, unpack32(b.x).y, unpack32(b.y).x, unpack32(b.y).y);
        float q = 0.0;
        [[unroll]] for (uint j = 0; j < 8; ++j) q += dot(sbytes4(qw[j]), xv[k * 8 + j]);
        t += unpackHalf2x16(dw[k >> 1])[k & 1u] * q;
      }
      acc[r] += t;
    }
  }
  row_lanes_store_all(row0, tid, acc);
}
#elif defined(DATA_A_Q8_0)
// Q8_0 (34-byte blocks) by quads of blocks: 136 bytes = 17 8-byte words, 8-byte aligned (Ops::mul_mv: rows
// of whole quads, 8-byte aligned in their binding): 17 loads per 128 weights and row instead of 34 32-bit
// ones. Block k of a quad starts at byte 34 k: d in its first 2 bytes, its 32 quants after.
uint q8_word(uint64_t w[17], uint o) {  // the 4 bytes at (even) byte o of the quad
  const uint i = o >> 3, sh = (o & 7u) * 8u;
  if (sh <= 32) return uint(w[i] >> sh);
  return uint((w[i] >> sh) | (w[i + 1] << (64u - sh)));  // o % 8 == 6: i < 16 (o <= 132)
}

void mul_mv_row_lanes(uint row0, uint tid) {
  uint rb[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) rb[r] = p.a_offset + lane_row(row0, tid, r) * p.row_stride;
  float acc[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) acc[r] = 0.0;
  const uint nquad = p.ncols / 128;
  for (uint g = 0; g < nquad; ++g) {
    const uint xq = p.x_offset + g * 128;
    vec4 xv[32];  // block k's values 4j .. 4j + 3 at k * 8 + j, the same in every lane
    [[unroll]] for (uint j = 0; j < 32; ++j) xv[j] = x_quad(xq + j * 4, xa);
    [[unroll]] for (uint r = 0; r < RPI; ++r) {
      const uint w0 = (rb[r] + g * 4 * BLOCK_U16) >> 2;
      uint64_t w[17];
      [[unroll]] for (uint i = 0; i < 17; ++i) w[i] = data_a64[w0 + i];
      float t = 0.0;
      [[unroll]] for (uint k = 0; k < 4; ++k) {
        float q = 0.0;
        [[unroll]] for (uint j = 0; j < 8; ++j) q += dot(sbytes4(q8_word(w, 34 * k + 2 + 4 * j)), xv[k * 8 + j]);
        const uint o = 34 * k;  // d: 2 bytes at an even offset, never across words
        t += unpackHalf2x16(uint(w[o >> 3] >> ((o & 7u) * 8u)) & 0xFFFFu).x * q;
      }
      acc[r] += t;
    }
  }
  row_lanes_store_all(row0, tid, acc);
}
#elif defined(DATA_A_F16)
// F16 (rows of whole 32-value groups, 16-byte aligned: Ops::mul_mv): 32 values per step as 4 u64vec2s, 8
// 8-byte components instead of the lane-striding path's 32 16-bit loads.
void mul_mv_row_lanes(uint row0, uint tid) {
  uint rb[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) rb[r] = p.a_offset + lane_row(row0, tid, r) * p.row_stride;
  float acc[RPI];
  [[unroll]] for (uint r = 0; r < RPI; ++r) acc[r] = 0.0;
  const uint steps = p.ncols / 32;
  for (uint g = 0; g < steps; ++g) {
    vec4 xv[8];  // values 4j .. 4j + 3 of the step, the same in every lane
    [[unroll]] for (uint j = 0; j < 8; ++j) xv[j] = x_quad(p.x_offset + g * 32 + j * 4, xa);
    [[unroll]] for (uint r = 0; r < RPI; ++r) {
      const uint v = (rb[r] + g * 32) >> 3;
      float t = 0.0;
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        const u64vec2 w = data_a64x2[v + i];
        const uvec4 u = uvec4(unpack32(w.x), unpack32(w.y));
        t += dot(vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y)), xv[2 * i]) +
             dot(vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w)), xv[2 * i + 1]);
      }
      acc[r] += t;
    }
  }
  row_lanes_store_all(row0, tid, acc);
}
#endif

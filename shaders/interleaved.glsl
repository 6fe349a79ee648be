// Interleaved weights (Matrix::interleaved; the A_IL modules of mul_mv.comp and mul_mm_cpu.comp, CPU
// implementations): binding 0's range again, as a uniform texel buffer of 16-byte texels at binding
// IL_BINDING. Rows come in groups of 8 stored texel by texel, each unit padded to whole texels: texel j of
// row `row` of this binding is il_row(row) + 8 j, so the 8 lanes of a subgroup, each on its own row of a
// group, read 128 contiguous bytes. (Lavapipe fetches a texel per lane with one 16-byte load; a storage
// buffer costs a loop over the lanes with a branch per component, and 8 rows read side by side were 8
// streams: docs/vulkan.md, "Interleaved weights".) Needs the push constants p.a_offset (16-bit words from
// the binding's start to row 0) and p.row_stride (the padded row in 16-bit words, which is also a group's
// texels: 8 * (2 row_stride / 16)).
layout(binding = IL_BINDING) uniform usamplerBuffer a_tex;
uint il_row(uint row) { return (p.a_offset >> 3) + (row >> 3) * p.row_stride + (row & 7u); }
u64vec2 il_texel64(uint t) { const uvec4 v = texelFetch(a_tex, int(t)); return u64vec2(pack64(v.xy), pack64(v.zw)); }

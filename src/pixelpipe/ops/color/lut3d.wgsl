// lut3d: optional per-channel 1-D shaper, then a 3-D LUT (trilinear or tetrahedral);
// every input is clamped to its table's domain; NaN counts as the domain minimum.
// params[base + 0] = (domain_min.rgb, N)
// params[base + 1] = ((N-1)/(max-min) per channel, 1 = tetrahedral / 0 = trilinear)
// params[base + 2] = (shaper domain_min.rgb, M)   M = 0: no shaper
// params[base + 3] = ((M-1)/(max-min) per channel of the shaper, 0)
// params[base + 4 .. base + 4 + M) = shaper entries (rgb)
// params[base + 4 + M + (i*N + j)*N + k].rgb = table[r=i][g=j][b=k]

fn lut3d_is_nan(v: vec3<f32>) -> vec3<bool> {
    return (bitcast<vec3<u32>>(v) & vec3<u32>(0x7fffffffu)) > vec3<u32>(0x7f800000u);
}

// fractional grid coordinate in [0, n-1]; NaN -> 0
fn lut3d_coord(v: vec3<f32>, lo: vec3<f32>, scale: vec3<f32>, n: f32) -> vec3<f32> {
    let t = (v - lo) * scale;
    return select(clamp(t, vec3<f32>(0.0), vec3<f32>(n - 1.0)), vec3<f32>(0.0), lut3d_is_nan(t));
}

fn lut3d_shaper(v: vec3<f32>, base: u32) -> vec3<f32> {
    let h0 = params[base + 2u];
    let h1 = params[base + 3u];
    let m = h0.w;
    let t = lut3d_coord(v, h0.xyz, h1.xyz, m);
    let i = min(floor(t), vec3<f32>(m - 2.0));
    let f = t - i;
    let first = base + 4u;
    let iu = vec3<u32>(i) + vec3<u32>(first);
    let a = vec3<f32>(params[iu.x].x, params[iu.y].y, params[iu.z].z);
    let b = vec3<f32>(params[iu.x + 1u].x, params[iu.y + 1u].y, params[iu.z + 1u].z);
    return a + f * (b - a);
}

fn lut3d(c: vec4<f32>, base: u32) -> vec4<f32> {
    let h0 = params[base];
    let h1 = params[base + 1u];
    let m = params[base + 2u].w;
    var v = c.rgb;
    if (m > 0.0) {
        v = lut3d_shaper(v, base);
    }
    let n = h0.w;
    let t = lut3d_coord(v, h0.xyz, h1.xyz, n);
    let i = min(floor(t), vec3<f32>(n - 2.0));
    let f = t - i;
    let nu = u32(n);
    let iu = vec3<u32>(i);
    let o = base + 4u + u32(m) + (iu.x * nu + iu.y) * nu + iu.z;  // row of C000
    let dr = nu * nu;  // +1 in red
    let dg = nu;       // +1 in green
    let c000 = params[o].rgb;
    let c111 = params[o + dr + dg + 1u].rgb;
    var out: vec3<f32>;
    if (h1.w < 0.5) {
        // trilinear
        let c00 = c000 + f.x * (params[o + dr].rgb - c000);
        let c01 = params[o + 1u].rgb + f.x * (params[o + dr + 1u].rgb - params[o + 1u].rgb);
        let c10 = params[o + dg].rgb + f.x * (params[o + dr + dg].rgb - params[o + dg].rgb);
        let c11 = params[o + dg + 1u].rgb + f.x * (c111 - params[o + dg + 1u].rgb);
        let c0 = c00 + f.y * (c10 - c00);
        let c1 = c01 + f.y * (c11 - c01);
        out = c0 + f.z * (c1 - c0);
    } else {
        // tetrahedral: the six tetrahedra sharing the C000-C111 diagonal. The
        // case decides the order of the fractions (x >= y >= z) and the two
        // middle vertices; it is picked with selects, not branches, so the
        // invocations of a workgroup never diverge and every pixel issues
        // the same four loads. Same cases, ties and arithmetic as the
        // reference: out = (1-x) C000 + (x-y) V1 + (y-z) V2 + z C111.
        let fr = f.x;
        let fg = f.y;
        let fb = f.z;
        let a = fr > fg;
        let b = fg > fb;
        let rb = fr > fb;
        let bg = fb > fg;
        let br = fb > fr;
        let c1 = a && b;
        let c2 = a && !b && rb;
        let c3 = a && !b && !rb;
        let c4 = !a && bg;
        let c5 = !a && !bg && br;
        let x = select(select(fg, fb, c3 || c4), fr, c1 || c2);
        let y = select(select(select(select(select(fr, fb, c5), fg, c4), fr, c3), fb, c2), fg, c1);
        let z = select(select(select(fb, fr, c4 || c5), fg, c2 || c3), fb, c1);
        let off1 = select(select(dg, 1u, c3 || c4), dr, c1 || c2);
        let off2 = select(select(select(dr + dg, dg + 1u, c4 || c5), dr + 1u, c2 || c3), dr + dg,
                          c1);
        out = (1.0 - x) * c000 + (x - y) * params[o + off1].rgb
            + (y - z) * params[o + off2].rgb + z * c111;
    }
    return vec4<f32>(out, c.a);
}

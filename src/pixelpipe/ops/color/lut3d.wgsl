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
        // tetrahedral: the six tetrahedra sharing the C000-C111 diagonal
        let fr = f.x;
        let fg = f.y;
        let fb = f.z;
        if (fr > fg) {
            if (fg > fb) {
                out = (1.0 - fr) * c000 + (fr - fg) * params[o + dr].rgb
                    + (fg - fb) * params[o + dr + dg].rgb + fb * c111;
            } else if (fr > fb) {
                out = (1.0 - fr) * c000 + (fr - fb) * params[o + dr].rgb
                    + (fb - fg) * params[o + dr + 1u].rgb + fg * c111;
            } else {
                out = (1.0 - fb) * c000 + (fb - fr) * params[o + 1u].rgb
                    + (fr - fg) * params[o + dr + 1u].rgb + fg * c111;
            }
        } else {
            if (fb > fg) {
                out = (1.0 - fb) * c000 + (fb - fg) * params[o + 1u].rgb
                    + (fg - fr) * params[o + dg + 1u].rgb + fr * c111;
            } else if (fb > fr) {
                out = (1.0 - fg) * c000 + (fg - fb) * params[o + dg].rgb
                    + (fb - fr) * params[o + dg + 1u].rgb + fr * c111;
            } else {
                out = (1.0 - fg) * c000 + (fg - fr) * params[o + dg].rgb
                    + (fr - fb) * params[o + dr + dg].rgb + fb * c111;
            }
        }
    }
    return vec4<f32>(out, c.a);
}

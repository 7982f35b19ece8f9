// lut1d: per-channel 1-D LUT, linear interpolation, input clamped to the domain.
// params[base + 0] = (domain_min.r, domain_min.g, domain_min.b, N)
// params[base + 1] = ((N-1)/(max-min) per channel, 0)
// params[base + 2 + i].rgb = table entry i, i in 0..N-1
// NaN is looked up as domain_min (entry 0), +-Inf as the nearest end.

fn lut1d_is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn lut1d_channel(v: f32, lo: f32, scale: f32, n: f32, first: u32, ch: u32) -> f32 {
    var t = (v - lo) * scale;
    t = select(clamp(t, 0.0, n - 1.0), 0.0, lut1d_is_nan(t));
    let i = min(floor(t), n - 2.0);
    let f = t - i;
    let row = first + u32(i);
    let a = params[row][ch];
    let b = params[row + 1u][ch];
    return a + f * (b - a);
}

fn lut1d(c: vec4<f32>, base: u32) -> vec4<f32> {
    let h0 = params[base];
    let h1 = params[base + 1u];
    let first = base + 2u;
    return vec4<f32>(
        lut1d_channel(c.r, h0.x, h1.x, h0.w, first, 0u),
        lut1d_channel(c.g, h0.y, h1.y, h0.w, first, 1u),
        lut1d_channel(c.b, h0.z, h1.z, h0.w, first, 2u),
        c.a);
}

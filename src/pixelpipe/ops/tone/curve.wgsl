// tone_curve: monotone cubic (Fritsch-Carlson) point curves; see curve.py.
// params[base + 0] = (n_rgb, n_red, n_green, n_blue)   knot counts, 0 = curve absent
// params[base + 1] = (n_luma, luma weights r, g, b)
// then, for each present curve in the order rgb, red, green, blue, luma,
// two rows per knot i: (x_i, y_i, c1, c2), (c3, 0, 0, 0); the last knot has
// c1 = end tangent, c2 = c3 = 0. Below the first and from the last knot on,
// the curve is the straight line y_i + c1 (x - x_i).

fn tone_curve_bits_nonfinite(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) >= 0x7f800000u;
}

fn tone_curve_is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn tone_curve_eval(v: f32, start: u32, n: u32) -> f32 {
    var k = 0u;
    for (var i = 1u; i < n; i = i + 1u) {
        if (v >= params[start + 2u * i].x) {
            k = i;
        }
    }
    let r = params[start + 2u * k];
    let c3 = params[start + 2u * k + 1u].x;
    let s = v - r.x;
    let cubic = r.y + s * (r.z + s * (r.w + s * c3));
    let line = r.y + select(r.z * s, 0.0, r.z == 0.0);
    let outside = v < params[start].x || v >= params[start + 2u * (n - 1u)].x;
    return select(select(cubic, line, outside), v, tone_curve_is_nan(v));
}

fn tone_curve(c: vec4<f32>, base: u32) -> vec4<f32> {
    let h0 = params[base];
    let h1 = params[base + 1u];
    let n_rgb = u32(h0.x);
    let n_red = u32(h0.y);
    let n_green = u32(h0.z);
    let n_blue = u32(h0.w);
    let n_luma = u32(h1.x);
    var v = c.rgb;
    var start = base + 2u;
    if (n_rgb > 0u) {
        v = vec3<f32>(tone_curve_eval(v.r, start, n_rgb), tone_curve_eval(v.g, start, n_rgb),
                      tone_curve_eval(v.b, start, n_rgb));
        start = start + 2u * n_rgb;
    }
    if (n_red > 0u) {
        v.r = tone_curve_eval(v.r, start, n_red);
        start = start + 2u * n_red;
    }
    if (n_green > 0u) {
        v.g = tone_curve_eval(v.g, start, n_green);
        start = start + 2u * n_green;
    }
    if (n_blue > 0u) {
        v.b = tone_curve_eval(v.b, start, n_blue);
        start = start + 2u * n_blue;
    }
    if (n_luma > 0u) {
        let y = (v.r * h1.y + v.g * h1.z) + v.b * h1.w;
        if (!tone_curve_bits_nonfinite(y)) {
            let l = tone_curve_eval(y, start, n_luma);
            if (y > 0.0) {
                v = v * (l / y);
            } else {
                v = v + (l - y);
            }
        }
    }
    return vec4<f32>(v, c.a);
}

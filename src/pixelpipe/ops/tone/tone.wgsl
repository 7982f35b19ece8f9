// tone: blacks (per channel), then whites, contrast, highlights, shadows as
// gains of Rec.2020 luma on sRGB-encoded RGB; alpha untouched. See tone.py.
// params[base + 0] = (pivot, a (contrast), k_h (highlights), k_s (shadows))
// params[base + 1] = (k_w * (1 - whites_start), k_b * blacks_end, 0, 0)
// params[base + 2] = (highlights_start, shadows_end, whites_start, blacks_end)
// params[base + 3] = (luma weights r, g, b, 0)
//
// NaN is detected from the bit pattern so that no compiler assumption about
// NaN comparisons can change the result.

fn tone_is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn tone(c: vec4<f32>, base: u32) -> vec4<f32> {
    let p0 = params[base];
    let p1 = params[base + 1u];
    let p2 = params[base + 2u];
    let w = params[base + 3u].xyz;
    let pivot = p0.x;
    let a = p0.y;
    let k_h = p0.z;
    let k_s = p0.w;
    let white_lift = p1.x;
    let black_lift = p1.y;
    let h_start = p2.x;
    let s_end = p2.y;
    let w_start = p2.z;
    let b_end = p2.w;

    // blacks, per channel
    let vc = clamp(c.rgb, vec3<f32>(0.0), vec3<f32>(1.0));
    let tb = max(vec3<f32>(0.0), 1.0 - vc / b_end);
    let v = c.rgb + black_lift * tb * tb;
    var y = (v.r * w.x + v.g * w.y) + v.b * w.z;
    var gain = 1.0;

    // whites
    var yc = clamp(y, 0.0, 1.0);
    var t = max(0.0, (yc - w_start) / (1.0 - w_start));
    var g = 1.0 + white_lift * t * t / max(yc, w_start);
    g = select(1.0, g, y > 0.0);
    gain = gain * g;
    y = y * g;

    // contrast
    yc = clamp(y, 0.0, 1.0);
    let lo = 1.0 - a * (1.0 - yc / pivot);
    let u = 1.0 - yc;
    let hi = 1.0 + a * u * (1.0 - u / (1.0 - pivot)) / max(yc, pivot);
    g = select(hi, lo, yc <= pivot);
    g = select(1.0, g, y > 0.0);
    gain = gain * g;
    y = y * g;

    // highlights
    yc = clamp(y, 0.0, 1.0);
    t = max(0.0, (yc - h_start) / (1.0 - h_start));
    g = 1.0 + k_h * t * t * (1.0 - yc) / max(yc, h_start);
    g = select(1.0, g, y > 0.0);
    gain = gain * g;
    y = y * g;

    // shadows
    yc = clamp(y, 0.0, 1.0);
    t = max(0.0, 1.0 - yc / s_end);
    g = 1.0 + k_s * t * t;
    g = select(1.0, g, y > 0.0);
    gain = gain * g;
    y = y * g;

    let rgb = select(v * gain, vec3<f32>(y), tone_is_nan(y));
    return vec4<f32>(rgb, c.a);
}

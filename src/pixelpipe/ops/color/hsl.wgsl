// hsl: hue / saturation / luminance of eight hue bands in OkLCh; alpha untouched.
// Input and output: sRGB-encoded Rec.2020. Math and sources: hsl.py.
// params[base + 0..2]  M1 rows (linear Rec.2020 -> LMS)
// params[base + 3..5]  M2 rows (LMS' -> Lab)
// params[base + 6..8]  M2^-1 rows
// params[base + 9..11] M1^-1 rows
// params[base + 12..13] band centres (degrees), [base + 14..15] gaps to the next centre
// params[base + 16..23] per band: (hue shift radians, saturation / 100, luminance / 100)
// params[base + 24].x   chroma of full hue / luminance effect

fn hsl_nonfinite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn hsl_decode(v: f32) -> f32 {
    if (v <= 0.04045) { return v / 12.92; }
    return pow((v + 0.055) / 1.055, 2.4);
}

fn hsl_encode(x: f32) -> f32 {
    if (x <= 0.0031308) { return 12.92 * x; }
    return 1.055 * pow(x, 1.0 / 2.4) - 0.055;
}

fn hsl_cbrt(x: f32) -> f32 {
    return select(0.0, sign(x) * pow(abs(x), 1.0 / 3.0), x != 0.0);
}

// atan2 in degrees, 0..360, to about 1e-5 degrees on every platform (the built-in's
// accuracy is implementation-defined): octant reduction to |z| <= tan(pi/8), then the
// Taylor series of atan to z^15 (remainder below 2e-8 rad).
fn hsl_hue_degrees(y: f32, x: f32) -> f32 {
    let ax = abs(x);
    let ay = abs(y);
    let mx = max(ax, ay);
    var r = 0.0;
    if (mx > 0.0) { r = min(ax, ay) / mx; }
    var off = 0.0;
    if (r > 0.41421356) {
        r = (r - 1.0) / (r + 1.0);
        off = 0.78539816;
    }
    let z2 = r * r;
    var p = -1.0 / 15.0;
    p = p * z2 + 1.0 / 13.0;
    p = p * z2 - 1.0 / 11.0;
    p = p * z2 + 1.0 / 9.0;
    p = p * z2 - 1.0 / 7.0;
    p = p * z2 + 1.0 / 5.0;
    p = p * z2 - 1.0 / 3.0;
    p = p * z2 + 1.0;
    var a = off + r * p;                  // atan(min / max), 0..pi/4
    if (ay > ax) { a = 1.57079633 - a; }  // 0..pi/2
    if (x < 0.0) { a = 3.14159265 - a; }  // 0..pi
    var deg = a * 57.2957795;
    if (y < 0.0) { deg = 360.0 - deg; }
    return deg;
}

fn hsl_mat(base: u32, v: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(dot(params[base].xyz, v), dot(params[base + 1u].xyz, v),
                     dot(params[base + 2u].xyz, v));
}

fn hsl(c: vec4<f32>, base: u32) -> vec4<f32> {
    if (hsl_nonfinite(c.r) || hsl_nonfinite(c.g) || hsl_nonfinite(c.b)) { return c; }
    if (c.r == c.g && c.g == c.b) { return c; }
    let lin = vec3<f32>(hsl_decode(c.r), hsl_decode(c.g), hsl_decode(c.b));
    let lms = hsl_mat(base, lin);
    let lab = hsl_mat(base + 3u, vec3<f32>(hsl_cbrt(lms.x), hsl_cbrt(lms.y), hsl_cbrt(lms.z)));
    let chroma = length(lab.yz);
    let hue = hsl_hue_degrees(lab.z, lab.y);

    // find the pair of neighbouring band centres around the hue (first match)
    var j = 7u;
    var d = hue - params[base + 13u].w;
    if (d < 0.0) { d = d + 360.0; }
    for (var k = 0u; k < 8u; k = k + 1u) {
        var dk = hue - params[base + 12u + k / 4u][k % 4u];
        if (dk < 0.0) { dk = dk + 360.0; }
        if (dk < params[base + 14u + k / 4u][k % 4u]) {
            j = k;
            d = dk;
            break;
        }
    }
    let t = clamp(d / params[base + 14u + j / 4u][j % 4u], 0.0, 1.0);
    let u = 0.5 - 0.5 * cos(3.14159265358979 * t);
    let blend = (1.0 - u) * params[base + 16u + j].xyz + u * params[base + 16u + (j + 1u) % 8u].xyz;

    let tn = clamp(chroma / params[base + 24u].x, 0.0, 1.0);
    let n = tn * tn * (3.0 - 2.0 * tn);
    let dh = n * blend.x;
    let s = blend.y;
    let v = n * blend.z;
    if (dh == 0.0 && s == 0.0 && v == 0.0) { return c; }
    let kl = exp2(0.5 * v);
    let cs = (1.0 + s) * min(kl, 1.0);
    let ch = cos(dh);
    let sh = sin(dh);
    let lab2 = vec3<f32>(kl * lab.x, cs * (lab.y * ch - lab.z * sh), cs * (lab.y * sh + lab.z * ch));
    let lp = hsl_mat(base + 6u, lab2);
    let lin2 = hsl_mat(base + 9u, lp * lp * lp);
    return vec4<f32>(hsl_encode(lin2.x), hsl_encode(lin2.y), hsl_encode(lin2.z), c.a);
}

// color_grading: shadows / midtones / highlights / global colour wheels; alpha untouched.
// Input and output: sRGB-encoded Rec.2020. Math and sources: grading.py.
// params[base].xyz       luma weights (ITU-R BT.2020)
// params[base + 1].xyz   (c1, c2, w): split points and transition half-width
// params[base + 2..5].xyz RGB offsets of the shadows, midtones, highlights and global wheels

fn color_grading_nonfinite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn color_grading_step(c: f32, w: f32, x: f32) -> f32 {
    let t = clamp((x - (c - w)) / (2.0 * w), 0.0, 1.0);
    return t * t * (3.0 - 2.0 * t);
}

fn color_grading(c: vec4<f32>, base: u32) -> vec4<f32> {
    if (color_grading_nonfinite(c.r) || color_grading_nonfinite(c.g)
        || color_grading_nonfinite(c.b)) { return c; }
    let wts = params[base].xyz;
    let m = params[base + 1u].xyz;
    let luma = dot(c.rgb, wts);
    let s1 = color_grading_step(m.x, m.z, luma);
    let s2 = color_grading_step(m.y, m.z, luma);
    let off = (1.0 - s1) * params[base + 2u].xyz + (s1 - s2) * params[base + 3u].xyz
        + s2 * params[base + 4u].xyz + params[base + 5u].xyz;
    return vec4<f32>(select(c.rgb + off, c.rgb, off == vec3<f32>(0.0)), c.a);
}

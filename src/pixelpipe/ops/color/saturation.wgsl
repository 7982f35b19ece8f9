// saturation: out.rgb = luma + s * (rgb - luma); alpha untouched.
// params[base].xyz = luma weights (float32), params[base].w = s
fn saturation(c: vec4<f32>, base: u32) -> vec4<f32> {
    let w = params[base].xyz;
    let s = params[base].w;
    let luma = (c.r * w.x + c.g * w.y) + c.b * w.z;
    return vec4<f32>(luma + s * (c.rgb - luma), c.a);
}

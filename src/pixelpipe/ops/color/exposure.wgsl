// exposure: multiply RGB by 2^stops; alpha untouched.
// params[base].x = 2^stops (the gain, computed once on the host)
fn exposure(c: vec4<f32>, base: u32) -> vec4<f32> {
    let gain = params[base].x;
    return vec4<f32>(c.rgb * gain, c.a);
}

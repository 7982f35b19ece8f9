// colorspace: linear RGB -> linear RGB by a 3x3 matrix; alpha untouched.
// params[base + 0..2].xyz = rows 0..2 of the matrix (float32, computed on the host)
fn colorspace(c: vec4<f32>, base: u32) -> vec4<f32> {
    let v = c.rgb;
    let r0 = params[base].xyz;
    let r1 = params[base + 1u].xyz;
    let r2 = params[base + 2u].xyz;
    return vec4<f32>(
        (r0.x * v.r + r0.y * v.g) + r0.z * v.b,
        (r1.x * v.r + r1.y * v.g) + r1.z * v.b,
        (r2.x * v.r + r2.y * v.g) + r2.z * v.b,
        c.a,
    );
}

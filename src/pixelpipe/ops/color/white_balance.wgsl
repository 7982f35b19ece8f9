// white_balance: multiply RGB by per-channel gains; alpha untouched.
// params[base].xyz = R, G, B gains (computed once on the host, see white_balance.py)
fn white_balance(c: vec4<f32>, base: u32) -> vec4<f32> {
    return vec4<f32>(c.rgb * params[base].xyz, c.a);
}

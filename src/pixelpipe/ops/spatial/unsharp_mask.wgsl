// unsharp_mask combine pass: src0 = input, src1 = its Gaussian blur.
// params[0] = (amount, threshold, 0, 0)
// RGB: keep x where |x - blur| < threshold, else x + amount * (x - blur).
// A NaN detail fails the "< threshold" test, so NaN propagates. Alpha copied.

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let x = src0[i];
    let b = src1[i];
    let amount = params[0].x;
    let threshold = params[0].y;
    let d = x.rgb - b.rgb;
    let keep = abs(d) < vec3<f32>(threshold);
    let rgb = select(x.rgb + amount * d, x.rgb, keep);
    dst[i] = vec4<f32>(rgb, x.a);
}

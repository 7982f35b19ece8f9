// Grain, last pass: add the midtone-weighted grain to R, G, B (see grain.py, step 5).
// src0 = input (out_h x out_w); src1, src2 = blurred noise images of
// (out_h + 2R) x (out_w + 2R) pixels, octave 0 in src1.x, octave 1 in src2.y.
// params[0] = (R, noise width, a0, a1)
// params[1] = (luma R, luma G, luma B, 0)
// params[2] = (weight at black/white, 4 * (1 - that weight), 0, 0)

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let r = u32(params[0].x);
    let nw = u32(params[0].y);
    let j = (p.y + r) * nw + p.x + r;
    let g = params[0].z * src1[j].x + params[0].w * src2[j].y;
    let c = src0[i];
    let y = c.r * params[1].x + c.g * params[1].y + c.b * params[1].z;
    // NaN and +-Inf luma count as 0 (abs(NaN) <= max is false)
    let v = select(0.0, clamp(y, 0.0, 1.0), abs(y) <= 3.4028235e38);
    let m = params[2].x + params[2].y * (v * (1.0 - v));
    dst[i] = vec4<f32>(c.rgb + vec3<f32>(g * m), c.a);
}

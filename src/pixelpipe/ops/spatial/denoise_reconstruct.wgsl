// Soft thresholds and reconstruction (see denoise.py).
//
// src0 = the op input (RGBA), src1 .. src5 = c1 .. c5 (Y, Cb, Cr, 0).
// params[0], params[1] = conversion rows (denoise_common.wgsl)
// params[2 + j] = thresholds of level j + 1 for (Y, Cb, Cr, 0), j = 0..4
//
// out = c5 + sum_j T(c_{j-1} - c_j), T(w) = sign(w) max(|w| - t, 0); c0 is
// recomputed from the input. Alpha and non-finite pixels pass through.

fn soft(w: vec4<f32>, t: vec4<f32>) -> vec4<f32> {
    return sign(w) * max(abs(w) - t, vec4<f32>(0.0));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let src = src0[i];
    if (!rgb_finite(src)) {
        dst[i] = src;
        return;
    }
    let c0 = to_ycc(src, params[0], params[1]);
    let c1 = src1[i];
    let c2 = src2[i];
    let c3 = src3[i];
    let c4 = src4[i];
    let c5 = src5[i];
    var acc = c5;
    acc += soft(c0 - c1, params[2]);
    acc += soft(c1 - c2, params[3]);
    acc += soft(c2 - c3, params[4]);
    acc += soft(c3 - c4, params[5]);
    acc += soft(c4 - c5, params[6]);
    dst[i] = vec4<f32>(to_rgb(acc, params[0], params[1]), src.w);
}

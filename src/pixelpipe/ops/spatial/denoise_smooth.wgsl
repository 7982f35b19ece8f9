// One 1-D step of the a trous B3-spline smoothing (see denoise.py).
//
// params[0] = (dilation d, along x (1) or y (0), convert RGB -> YCbCr (1) or not (0), 0)
// params[1], params[2] = conversion rows (denoise_common.wgsl)
// params[3] = (1/16, 4/16, 6/16, 0): the symmetric B3 taps
//
// out[p] = sum_k h[k] * in[mirror(p + (k - 2) d)] along the axis, k = 0..4.
// The branches depend on params only (uniform control flow).

fn tap(x: i32, y: i32, convert: bool) -> vec4<f32> {
    let w = dims.in_w;
    let v = src0[mirror_index(y, i32(dims.in_h)) * w + mirror_index(x, i32(w))];
    if (convert) {
        return to_ycc(v, params[1], params[2]);
    }
    return v;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let d = i32(params[0].x);
    let convert = params[0].z > 0.5;
    var step = vec2<i32>(0, d);
    if (params[0].y > 0.5) {
        step = vec2<i32>(d, 0);
    }
    let h = params[3];
    let x = i32(p.x);
    let y = i32(p.y);
    let a = tap(x - 2 * step.x, y - 2 * step.y, convert);
    let b = tap(x - step.x, y - step.y, convert);
    let c = tap(x, y, convert);
    let e = tap(x + step.x, y + step.y, convert);
    let f = tap(x + 2 * step.x, y + 2 * step.y, convert);
    dst[p.y * dims.out_w + p.x] = h.x * a + h.y * b + h.z * c + h.y * e + h.x * f;
}

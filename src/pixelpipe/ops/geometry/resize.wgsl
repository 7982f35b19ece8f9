// resize: one separable pass of a convolution resize (horizontal or vertical).
// Windows and weights are tabulated on the host (see kernels.resample_weights).
//
// params[0]          = bitcast u32 (axis, kq, n_out, _); axis 0: along x, 1: along y;
//                      kq = vec4 rows of weights per output sample
// params[1 + i]      = bitcast u32 (start, count, _, _) of output sample i
// params[1 + n_out + i * kq + j / 4][j % 4] = weight of tap j of output sample i
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let head = bitcast<vec4<u32>>(params[0]);
    var i = p.x;
    var base = p.y * dims.in_w;
    var stride = 1u;
    if (head.x == 1u) {
        i = p.y;
        base = p.x;
        stride = dims.in_w;
    }
    let win = bitcast<vec4<u32>>(params[1u + i]);
    let wrow = 1u + head.z + i * head.y;
    var acc = vec4<f32>(0.0);
    for (var j = 0u; j < win.y; j = j + 1u) {
        let w = params[wrow + j / 4u][j % 4u];
        acc = acc + w * src0[base + (win.x + j) * stride];
    }
    dst[p.y * dims.out_w + p.x] = acc;
}

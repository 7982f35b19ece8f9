// remap: exact integer affine pixel permutation (crop, flip, rotations by
// multiples of 90 degrees). No arithmetic touches the pixel values.
//
// params[0] = bitcast i32 (axx, axy, bx, _): in_x = axx * x + axy * y + bx
// params[1] = bitcast i32 (ayx, ayy, by, _): in_y = ayx * x + ayy * y + by
// params[2] = fill RGBA for output pixels whose source is outside the input
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let mx = bitcast<vec4<i32>>(params[0]);
    let my = bitcast<vec4<i32>>(params[1]);
    let x = i32(p.x);
    let y = i32(p.y);
    let sx = mx.x * x + mx.y * y + mx.z;
    let sy = my.x * x + my.y * y + my.z;
    var c = params[2];
    if (sx >= 0 && sx < i32(dims.in_w) && sy >= 0 && sy < i32(dims.in_h)) {
        c = src0[u32(sy) * dims.in_w + u32(sx)];
    }
    dst[p.y * dims.out_w + p.x] = c;
}

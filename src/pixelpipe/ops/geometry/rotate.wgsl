// rotate: resample the input at rotated positions (nearest, bilinear or Keys
// bicubic), edge pixels replicated, fill outside. The shader source starts
// with `const INTERP: u32` (0 nearest, 1 bilinear, 2 bicubic), set by the op.
//
// Input position of output pixel (x, y), in pixel-edge coordinates, is
// column term + row term, each split into an integer and a fraction on the
// host so that the sum keeps ~1e-7 pixel precision at any image size:
// params[0]               = fill RGBA
// params[1].x             = Keys cubic parameter a
// params[2]               = bitcast i32 (x_lo, x_hi, y_lo, y_hi): the image's extent in
//                           the input's coordinates (the input may be a region of the
//                           image: positions outside [x_lo, x_hi) x [y_lo, y_hi) get fill;
//                           taps are clamped to the input, which then equals clamping
//                           them to the image)
// params[3 + x]           = (bitcast i32 int, frac) of x_in and y_in column terms
// params[3 + out_w + y]   = (bitcast i32 int, frac) of x_in and y_in row terms

fn keys(t: f32, a: f32) -> f32 {
    let x = abs(t);
    if (x < 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    }
    if (x < 2.0) {
        return ((x - 5.0) * x + 8.0) * x * a - 4.0 * a;
    }
    return 0.0;
}

fn tap(x: i32, y: i32) -> vec4<f32> {
    let cx = clamp(x, 0, i32(dims.in_w) - 1);
    let cy = clamp(y, 0, i32(dims.in_h) - 1);
    return src0[u32(cy) * dims.in_w + u32(cx)];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let o = p.y * dims.out_w + p.x;
    let col = params[3u + p.x];
    let row = params[3u + dims.out_w + p.y];
    let fx = col.y + row.y;
    let fy = col.w + row.w;
    let flx = floor(fx);
    let fly = floor(fy);
    let xe = bitcast<i32>(col.x) + bitcast<i32>(row.x) + i32(flx);
    let ye = bitcast<i32>(col.z) + bitcast<i32>(row.z) + i32(fly);
    let ex = fx - flx;
    let ey = fy - fly;
    let ext = bitcast<vec4<i32>>(params[2]);
    if (xe < ext.x || xe >= ext.y || ye < ext.z || ye >= ext.w) {
        dst[o] = params[0];
        return;
    }
    if (INTERP == 0u) {
        dst[o] = src0[u32(ye) * dims.in_w + u32(xe)];
        return;
    }
    // pixel-centre coordinates: x0 = floor(x_in - 0.5), dx = x_in - 0.5 - x0
    var x0 = xe;
    var dx = ex - 0.5;
    if (ex < 0.5) {
        x0 = xe - 1;
        dx = ex + 0.5;
    }
    var y0 = ye;
    var dy = ey - 0.5;
    if (ey < 0.5) {
        y0 = ye - 1;
        dy = ey + 0.5;
    }
    var acc = vec4<f32>(0.0);
    if (INTERP == 1u) {
        let wx = vec2<f32>(1.0 - dx, dx);
        let wy = vec2<f32>(1.0 - dy, dy);
        for (var r = 0; r < 2; r = r + 1) {
            var h = vec4<f32>(0.0);
            for (var j = 0; j < 2; j = j + 1) {
                h = h + wx[j] * tap(x0 + j, y0 + r);
            }
            acc = acc + wy[r] * h;
        }
    } else {
        let a = params[1].x;
        let wx = vec4<f32>(keys(1.0 + dx, a), keys(dx, a), keys(1.0 - dx, a), keys(2.0 - dx, a));
        let wy = vec4<f32>(keys(1.0 + dy, a), keys(dy, a), keys(1.0 - dy, a), keys(2.0 - dy, a));
        for (var r = 0; r < 4; r = r + 1) {
            var h = vec4<f32>(0.0);
            for (var j = 0; j < 4; j = j + 1) {
                h = h + wx[j] * tap(x0 - 1 + j, y0 - 1 + r);
            }
            acc = acc + wy[r] * h;
        }
    }
    dst[o] = acc;
}

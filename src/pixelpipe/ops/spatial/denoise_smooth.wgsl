// Along-x half of one a trous B3-spline smoothing step (see denoise.py).
//
// params[0] = (dilation d of this level along x, dilation of the previous level
//              along y (d / 2), first level (1) or not (0), 0)
// params[1], params[2] = conversion rows (denoise_common.wgsl)
// params[3] = (1/16, 4/16, 6/16, 0): the symmetric B3 taps
//
// Writes t_j = h_d (along x) * c_{j-1}. c_{j-1} is not stored:
// * level 1: c_0 = Y/Cb/Cr of src0 = the op input, converted per tap;
// * level j > 1: src0 = t_{j-1} and c_{j-1} = h_{d/2} (along y) * t_{j-1}, so
//   each of the 5 x-taps is a 5-tap column of t_{j-1} (25 reads). The column
//   sum is b3() in the same order as the along-y pass in denoise_band.wgsl,
//   so both passes compute the same float32 c_{j-1}.
// All taps mirror at the edges (reflect-101). The branch depends on params
// only (uniform control flow).

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let w = dims.in_w;
    let nx = i32(w);
    let h = params[3];
    let d = i32(params[0].x);
    let x = i32(p.x);
    var cols = array<u32, 5>(
        mirror_index(x - 2 * d, nx), mirror_index(x - d, nx), p.x,
        mirror_index(x + d, nx), mirror_index(x + 2 * d, nx));
    var v: array<vec4<f32>, 5>;
    if (params[0].z > 0.5) {
        let row = p.y * w;
        for (var k = 0; k < 5; k++) {
            v[k] = to_ycc(src0[row + cols[k]], params[1], params[2]);
        }
    } else {
        let rows = column_rows(p.y, i32(params[0].y));
        for (var k = 0; k < 5; k++) {
            v[k] = column(rows, cols[k], h);
        }
    }
    dst[p.y * w + p.x] = b3(v[0], v[1], v[2], v[3], v[4], h);
}

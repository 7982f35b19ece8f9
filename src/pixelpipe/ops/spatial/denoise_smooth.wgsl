// Along-x half of one a trous B3-spline smoothing step (see denoise.py).
//
// params[0] = (dilation d of this level along x, dilation of the previous level
//              along y (d / 2), first level (1) or not (0), 0)
// params[1], params[2] = conversion rows (denoise_common.wgsl)
// params[3] = (1/16, 4/16, 6/16, 0): the symmetric B3 taps
//
// Writes t_j = h_d (along x) * c_{j-1}. c_{j-1} is not stored:
// * level 1: c_0 = Y/Cb/Cr of src0 = the op input, converted per tap;
// * level j > 1: src0 = t_{j-1} and c_{j-1} = h_{d/2} (along y) * t_{j-1}:
//   each x-tap is a 5-tap column of t_{j-1}, summed by b3() in the same
//   order as the along-y pass (denoise_band.wgsl), so both passes compute
//   the same float32 c_{j-1}.
// Runs of RUN outputs along x (denoise_taps.wgsl): RUN + 4 taps for RUN
// outputs. All taps mirror at the edges (reflect-101). The branches on
// params are uniform.

fn c_prev(first: bool, rows: array<u32, 5>, row: u32, x: i32) -> vec4<f32> {
    let c = mirror_index(x, i32(dims.in_w));
    if (first) {
        return to_ycc(src0[row + c], params[1], params[2]);
    }
    return b3(src0[rows[0] + c], src0[rows[1] + c], src0[rows[2] + c],
              src0[rows[3] + c], src0[rows[4] + c], params[3]);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let t = tile_index(wid);
    let y = t.y * 16u + lid.y;
    let du = u32(params[0].x);
    let x0 = run_start(t.x, lid.x, du);
    if (y >= dims.out_h || x0 >= dims.out_w) {
        return;
    }
    let first = params[0].z > 0.5;
    let d = i32(du);
    let dy = i32(params[0].y);
    let yi = i32(y);
    let row = y * dims.in_w;
    let rows = array<u32, 5>(row_of(yi - 2 * dy), row_of(yi - dy), row,
                             row_of(yi + dy), row_of(yi + 2 * dy));
    let xi = i32(x0);
    var v0 = c_prev(first, rows, row, xi - 2 * d);
    var v1 = c_prev(first, rows, row, xi - d);
    var v2 = c_prev(first, rows, row, xi);
    var v3 = c_prev(first, rows, row, xi + d);
    for (var m = 0u; m < RUN; m++) {
        let x = x0 + m * du;
        if (x >= dims.out_w) {
            break;
        }
        let v4 = c_prev(first, rows, row, i32(x) + 2 * d);
        dst[row + x] = b3(v0, v1, v2, v3, v4, params[3]);
        v0 = v1;
        v1 = v2;
        v2 = v3;
        v3 = v4;
    }
}

// Along-y half of one a trous smoothing step, fused with the soft threshold
// of the band it completes and the running reconstruction (see denoise.py).
//
// src0 = t_j (along-x pass of level j), so c_j = h_d (along y) * t_j.
// src1 = the op input (level 1: c_0 = its Y/Cb/Cr) or t_{j-1} (level j > 1:
//        c_{j-1} = h_{d/2} (along y) * t_{j-1}, as in denoise_smooth.wgsl).
// dst  = the accumulator (Y, Cb, Cr, alpha): level 1 creates it, the later
//        levels update it in place (each invocation its own pixel only).
// params[0] = (dilation d, first level (1) or not (0), last level (1) or not (0), 0)
// params[1], params[2] = conversion rows (denoise_common.wgsl)
// params[3] = (1/16, 4/16, 6/16, 0): the symmetric B3 taps
// params[4] = soft thresholds of level j for (Y, Cb, Cr, 0)
//
// acc += T(c_{j-1} - c_j), T(w) = sign(w) max(|w| - t, 0); the last level
// adds c_5 and converts back to RGB. A pixel whose input R, G or B is not
// finite keeps the input's RGBA in the accumulator from level 1 on (it is
// the only way an accumulator lane is non-finite, float32 overflow aside)
// and is never changed again, so it passes through. The branches on
// params are uniform; the others end with a store of the own pixel only.

// column() of src1 (t_{j-1}): the same expression, the other input.
fn column_prev(rows: array<u32, 5>, x: u32, h: vec4<f32>) -> vec4<f32> {
    return b3(src1[rows[0] + x], src1[rows[1] + x], src1[rows[2] + x],
              src1[rows[3] + x], src1[rows[4] + x], h);
}

fn soft(w: vec3<f32>, t: vec3<f32>) -> vec3<f32> {
    return sign(w) * max(abs(w) - t, vec3<f32>(0.0));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let h = params[3];
    let d = i32(params[0].x);
    let cj = column(column_rows(p.y, d), p.x, h);
    var acc: vec4<f32>;
    var prev: vec4<f32>;
    if (params[0].y > 0.5) {
        let src = src1[i];
        if (!rgb_finite(src)) {
            dst[i] = src;
            return;
        }
        acc = vec4<f32>(0.0, 0.0, 0.0, src.w);
        prev = to_ycc(src, params[1], params[2]);
    } else {
        acc = dst[i];
        if (!rgb_finite(acc)) {
            return;
        }
        prev = column_prev(column_rows(p.y, d / 2), p.x, h);
    }
    var sum = acc.xyz + soft(prev.xyz - cj.xyz, params[4].xyz);
    if (params[0].z > 0.5) {
        sum = to_rgb(vec4<f32>(sum + cj.xyz, 0.0), params[1], params[2]);
    }
    dst[i] = vec4<f32>(sum, acc.w);
}

// Along-y half of one a trous smoothing step, fused with the soft threshold
// of the band it completes and the running reconstruction (see denoise.py).
//
// src0 = t_j (along-x pass of level j), so c_j = h_d (along y) * t_j.
// src1 = the op input (level 1: c_0 = its Y/Cb/Cr) or t_{j-1} (level j > 1:
//        c_{j-1} = h_{d/2} (along y) * t_{j-1}, as in denoise_smooth.wgsl).
// dst  = the accumulator (Y, Cb, Cr, alpha): level 1 creates it, the later
//        levels update it in place (each invocation its own pixels only).
// params[0] = (dilation d, first level (1) or not (0), last level (1) or not (0), 0)
// params[1], params[2] = conversion rows (denoise_common.wgsl)
// params[3] = (1/16, 4/16, 6/16, 0): the symmetric B3 taps
// params[4] = soft thresholds of level j for (Y, Cb, Cr, 0)
//
// acc += T(c_{j-1} - c_j), T(w) = sign(w) max(|w| - t, 0); the last level
// adds c_5 and converts back to RGB. A pixel whose input R, G or B is not
// finite keeps the input's RGBA in the accumulator from level 1 on (the
// only way an accumulator lane becomes non-finite, float32 overflow aside)
// and is never changed again, so it passes through. The last level's
// values (the op's output) go through `epilogue` (GpuPass.epilogue; the
// earlier levels' shader defines it as the identity, unused).
//
// Runs of RUN outputs along y, d apart (denoise_taps.wgsl): c_j slides over
// rows of t_j d apart (one new tap per output), c_{j-1} over rows of t_{j-1}
// d / 2 apart (two new taps per output). The branches on params are uniform.

fn soft(w: vec3<f32>, t: vec3<f32>) -> vec3<f32> {
    return sign(w) * max(abs(w) - t, vec3<f32>(0.0));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let t = tile_index(wid);
    let x = t.x * 16u + lid.x;
    let du = u32(params[0].x);
    let y0 = run_start(t.y, lid.y, du);
    if (x >= dims.out_w || y0 >= dims.out_h) {
        return;
    }
    let first = params[0].y > 0.5;
    let last = params[0].z > 0.5;
    let h = params[3];
    let d = i32(du);
    let hd = d / 2;
    let yi = i32(y0);
    // c_j window: t_j at rows y - 2d .. y + 2d
    var a0 = src0[row_of(yi - 2 * d) + x];
    var a1 = src0[row_of(yi - d) + x];
    var a2 = src0[row_of(yi) + x];
    var a3 = src0[row_of(yi + d) + x];
    // c_{j-1} window (level > 1): t_{j-1} at rows y - 2 hd .. y + 2 hd
    var p0 = vec4<f32>(0.0);
    var p1 = vec4<f32>(0.0);
    var p2 = vec4<f32>(0.0);
    if (!first) {
        p0 = src1[row_of(yi - 2 * hd) + x];
        p1 = src1[row_of(yi - hd) + x];
        p2 = src1[row_of(yi) + x];
    }
    for (var m = 0u; m < RUN; m++) {
        let y = y0 + m * du;
        if (y >= dims.out_h) {
            break;
        }
        let i = y * dims.out_w + x;
        let a4 = src0[row_of(i32(y) + 2 * d) + x];
        let cj = b3(a0, a1, a2, a3, a4, h);
        a0 = a1;
        a1 = a2;
        a2 = a3;
        a3 = a4;
        var acc: vec4<f32>;
        var prev: vec4<f32>;
        var skip = false;
        if (first) {
            let src = src1[i];
            acc = vec4<f32>(0.0, 0.0, 0.0, src.w);
            prev = to_ycc(src, params[1], params[2]);
            if (!rgb_finite(src)) {
                dst[i] = select(src, epilogue(src), last);
                skip = true;
            }
        } else {
            let p3 = src1[row_of(i32(y) + hd) + x];
            let p4 = src1[row_of(i32(y) + 2 * hd) + x];
            prev = b3(p0, p1, p2, p3, p4, h);
            p0 = p2;
            p1 = p3;
            p2 = p4;
            acc = dst[i];
            skip = !rgb_finite(acc);
            if (skip && last) {
                dst[i] = epilogue(acc);
            }
        }
        if (!skip) {
            var sum = acc.xyz + soft(prev.xyz - cj.xyz, params[4].xyz);
            var out = vec4<f32>(sum, acc.w);
            if (last) {
                let rgb = to_rgb(vec4<f32>(sum + cj.xyz, 0.0), params[1], params[2]);
                out = epilogue(vec4<f32>(rgb, acc.w));
            }
            dst[i] = out;
        }
    }
}

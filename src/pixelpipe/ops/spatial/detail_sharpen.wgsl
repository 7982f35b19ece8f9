// Sharpen combine pass (see detail.py). The host prepends
// `const USE_MASK: bool = true|false;`.
// src0 = input, src1 = (G_radius(Y), G_1(Y) (only with USE_MASK), 0, 0).
// params[0] = (k, t_lo, t_inv, e_lo), params[1] = (e_inv, 0, 0, 0),
// params[2] = (wr, wg, wb, 0): Y = wr * R + wg * G + wb * B, recomputed here from
// the input (as the blur's x pass computes it) rather than held as an image;
//   d = Y - G_radius(Y), w = S((|d| - t_lo) * t_inv),
//   e = |gradient of G_1(Y)| (central differences, mirrored borders),
//   mask = S((e - e_lo) * e_inv), dY = ((k * d) * w) * mask, S = smoothstep on [0, 1].
// dY is added to R, G and B; alpha copied; the result goes through `epilogue`
// (GpuPass.epilogue: the pointwise ops after this one, or the identity).

// A NaN t: the reference takes u = 0 (IEEE minNum/maxNum, as llvmpipe and NVIDIA
// evaluate clamp); WGSL leaves clamp of a NaN to the implementation.
fn smooth01(t: f32) -> f32 {
    let u = clamp(t, 0.0, 1.0);
    return u * u * (3.0 - 2.0 * u);
}

// Neighbour i (one of -1 .. n) mirrored into [0, n) (reflect-101); no signed remainders.
fn mirror1(i: i32, n: i32) -> u32 {
    if (n == 1) {
        return 0u;
    }
    if (i < 0) {
        return u32(-i);
    }
    if (i >= n) {
        return u32(2 * n - 2 - i);
    }
    return u32(i);
}

fn edge_strength(p: vec2<u32>) -> f32 {
    let w = i32(dims.out_w);
    let h = i32(dims.out_h);
    let x = i32(p.x);
    let y = i32(p.y);
    let row = p.y * dims.out_w;
    let gx = 0.5 * (src1[row + mirror1(x + 1, w)].y - src1[row + mirror1(x - 1, w)].y);
    let gy = 0.5 * (src1[mirror1(y + 1, h) * dims.out_w + p.x].y
                    - src1[mirror1(y - 1, h) * dims.out_w + p.x].y);
    return sqrt(gx * gx + gy * gy);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let x = src0[i];
    let k = params[0].x;
    let lw = params[2];
    let d = (lw.x * x.r + lw.y * x.g + lw.z * x.b) - src1[i].x;
    let wt = smooth01((abs(d) - params[0].y) * params[0].z);
    var dy = (k * d) * wt;
    if (USE_MASK) {
        dy = dy * smooth01((edge_strength(p) - params[0].w) * params[1].x);
    }
    dst[i] = epilogue(vec4<f32>(x.rgb + vec3<f32>(dy), x.a));
}

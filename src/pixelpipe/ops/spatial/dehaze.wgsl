// Dehaze (dark channel prior + guided filter), see dehaze.py and docs/ops/dehaze.md.
//
// This file holds several sections, each starting with a line `//@@ name`;
// the host joins the sections a pass needs (after the backend prelude). Every
// pass has the entry point `main` and owns one output pixel.

//@@ common
// Rec. ITU-R BT.2020 luma weights (the guide of the guided filter).
const LUMA_R: f32 = 0.2627;
const LUMA_G: f32 = 0.6780;
const LUMA_B: f32 = 0.0593;

fn luma(c: vec4<f32>) -> f32 {
    return LUMA_R * c.x + LUMA_G * c.y + LUMA_B * c.z;
}

// NaN-propagating minimum (as numpy.minimum): NaN is detected on the bits,
// since WGSL's min() may return either operand for a NaN.
fn is_nan(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

fn nan_min(a: f32, b: f32) -> f32 {
    if (is_nan(a) || is_nan(b)) {
        return bitcast<f32>(0x7fc00000u);
    }
    return min(a, b);
}

fn inside(p: vec2<u32>) -> bool {
    return p.x < dims.out_w && p.y < dims.out_h;
}

//@@ tap_rgb
// Dark-channel sample of the op input: min over R, G, B (statistics pass).
fn tap(i: u32) -> f32 {
    let c = src0[i];
    return nan_min(nan_min(c.x, c.y), c.z);
}

//@@ tap_rgb_over_a
// Dark-channel sample of the normalised input I / A (params[1].rgb = A).
fn tap(i: u32) -> f32 {
    let c = src0[i].xyz / params[1].xyz;
    return nan_min(nan_min(c.x, c.y), c.z);
}

//@@ tap_x
// Second (vertical) pass: the horizontal minima are in channel x.
fn tap(i: u32) -> f32 {
    return src0[i].x;
}

//@@ finish_plain
fn finish(i: u32, d: f32) -> vec4<f32> {
    return vec4<f32>(d, 0.0, 0.0, 0.0);
}

//@@ finish_stats
// Statistics: (dark channel, intensity (R + G) + B of the op input in src1).
fn finish(i: u32, d: f32) -> vec4<f32> {
    let c = src1[i];
    return vec4<f32>(d, (c.x + c.y) + c.z, 0.0, 0.0);
}

//@@ finish_pack
// Raw transmission p = 1 - omega * dark (params[0].y = omega) and the
// guided-filter inputs (I, p, I p, I I) with I the luma of the op input (src1).
fn finish(i: u32, d: f32) -> vec4<f32> {
    let g = luma(src1[i]);
    let p = 1.0 - params[0].y * d;
    return vec4<f32>(g, p, g * p, g * g);
}

//@@ min_main
// One 1-D pass of the separable minimum filter, edge mode "nearest": the
// window [x - r, x + r] is clipped to the image, which for a minimum is
// the same as repeating the edge pixel. The host prepends
// `const AXIS_X: bool` (true: along x). params[0].x = r.
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (!inside(p)) {
        return;
    }
    let r = u32(params[0].x);
    let w = dims.in_w;
    let h = dims.in_h;
    var m = tap(p.y * w + p.x);
    if (AXIS_X) {
        let lo = select(0u, p.x - r, p.x > r);
        let hi = min(w - 1u, p.x + r);
        let row = p.y * w;
        for (var x = lo; x <= hi; x++) {
            m = nan_min(m, tap(row + x));
        }
    } else {
        let lo = select(0u, p.y - r, p.y > r);
        let hi = min(h - 1u, p.y + r);
        for (var y = lo; y <= hi; y++) {
            m = nan_min(m, tap(y * w + p.x));
        }
    }
    let i = p.y * w + p.x;
    dst[i] = finish(i, m);
}

//@@ coeffs
// Guided-filter coefficients from the box means (mean I, mean p, mean Ip,
// mean II) in src0: a = cov(I, p) / (var(I) + eps), b = mean p - a mean I.
// params[0].x = eps.
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (!inside(p)) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let m = src0[i];
    let var_i = m.w - m.x * m.x;
    let cov = m.z - m.x * m.y;
    let a = cov / (var_i + params[0].x);
    let b = m.y - a * m.x;
    dst[i] = vec4<f32>(a, b, 0.0, 0.0);
}

//@@ recover
// Scene radiance J = (I - A) / clamp(q, t0, 1) + A with the refined
// transmission q = mean_a * luma(I) + mean_b; src0 = box means of (a, b),
// src1 = op input. params[0].x = t0, params[1].rgb = A. Alpha is kept.
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (!inside(p)) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let c = src1[i];
    let ab = src0[i];
    let q = ab.x * luma(c) + ab.y;
    let t = clamp(q, params[0].x, 1.0);
    let a = params[1].xyz;
    dst[i] = vec4<f32>((c.xyz - a) / t + a, c.w);
}

//@@ add_haze
// Negative amounts: J = I t' + A (1 - t'); params[0] = (t', 1 - t'),
// params[1].rgb = A. Alpha is kept.
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (!inside(p)) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let c = src0[i];
    dst[i] = vec4<f32>(c.xyz * params[0].x + params[1].xyz * params[0].y, c.w);
}

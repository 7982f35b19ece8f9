// Dehaze (dark channel prior + guided filter), see dehaze.py and docs/ops/dehaze.md.
//
// This file holds several sections, each starting with a line `//@@ name`;
// the host joins the sections a pass needs (after the backend prelude) and
// prepends the constants a section names (tile sizes, axis). Every pass has
// the entry point `main`; the tiled kernels (min_wg, box_y, box_x) find their
// output tile with `tile_index(wid)` (the pass's GpuPass.tile).

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

// Reflect-101 ("mirror", d c b | a b c d | c b a) index of position j on a
// line of n samples. The extension repeats with period 2n - 2, so any j is
// valid (windows wider than the image); n = 1 repeats the one sample. Only
// unsigned remainders: mirror is symmetric about 0, so |j| is folded.
fn mirror(j: i32, n: u32) -> u32 {
    if (n == 1u) {
        return 0u;
    }
    let period = 2u * n - 2u;
    var m = u32(abs(j)) % period;
    if (m >= n) {
        m = period - m;
    }
    return m;
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
// guided-filter inputs (I, p, I p, I I) with I = luma(op input in src1) - c,
// c = params[1].w (the airlight's luma). The guided filter is invariant
// under shifting its guide by a constant; the shift keeps I I small, so the
// variance box(I I) - box(I)^2 cancels less in float32.
fn finish(i: u32, d: f32) -> vec4<f32> {
    let g = luma(src1[i]) - params[1].w;
    let p = 1.0 - params[0].y * d;
    return vec4<f32>(g, p, g * p, g * g);
}

//@@ min_main
// Fallback 1-D minimum pass (windows too wide for min_wg's workgroup
// memory): each invocation scans its whole window, O(r) loads per pixel.
// Edge mode "nearest": the window [x - r, x + r] is clipped to the image,
// which for a minimum is the same as repeating the edge pixel. The host
// prepends `const AXIS_X: bool` (true: along x). params[0].x = r.
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

//@@ min_wg
// One 1-D pass of the separable minimum filter, edge mode "nearest",
// through workgroup memory. The host prepends `const AXIS_X: bool`,
// `const MIN_C: u32` (lines per workgroup) and `const MIN_L: u32` (outputs
// per line); MIN_C * (MIN_L + 2 r) <= MIN_CAP. params[0].x = r.
//
// The workgroup loads the MIN_L + 2 r samples of each of its lines once
// (element e = j * MIN_C + c: neighbouring invocations read neighbouring
// lines along y, neighbouring samples along x, i.e. adjacent addresses
// either way), then builds minima over 2, 4, 8 ... S samples by doubling,
// M_2s(j) = min(M_s(j), M_s(j + s)), S the largest power of two <= 2 r + 1
// (log2(2 r + 1) steps, ping-pong between two halves of `win`), and each
// output is min(M_S(o), M_S(o + 2 r + 1 - S)): two windows of S samples
// covering [o - r, o + r]. Exact (a minimum does not round); NaN spreads.
const MIN_CAP: u32 = 1536u;
var<workgroup> win: array<f32, 3072>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let t = tile_index(wid);
    var n_along = dims.out_w;
    var n_across = dims.out_h;
    var along0 = t.x * MIN_L;
    var line0 = t.y * MIN_C;
    if (!AXIS_X) {
        n_along = dims.out_h;
        n_across = dims.out_w;
        along0 = t.y * MIN_L;
        line0 = t.x * MIN_C;
    }
    if (along0 >= n_along || line0 >= n_across) {
        return;  // a spare workgroup of the folded dispatch (uniform)
    }
    let r = u32(params[0].x);
    let len = MIN_L + 2u * r;
    let total = MIN_C * len;
    for (var e = li; e < total; e += 256u) {
        let line = min(line0 + e % MIN_C, n_across - 1u);
        let pos = u32(clamp(i32(along0 + e / MIN_C) - i32(r), 0, i32(n_along) - 1));
        var i = line * n_along + pos;
        if (!AXIS_X) {
            i = pos * n_across + line;
        }
        win[e] = tap(i);
    }
    workgroupBarrier();
    let w = 2u * r + 1u;
    var s = 1u;
    var cur = 0u;
    loop {
        if (2u * s > w) {
            break;
        }
        let nxt = MIN_CAP - cur;
        let step = s * MIN_C;
        for (var e = li; e + step < total; e += 256u) {
            win[nxt + e] = nan_min(win[cur + e], win[cur + e + step]);
        }
        workgroupBarrier();
        cur = nxt;
        s *= 2u;
    }
    let second = (w - s) * MIN_C;
    for (var e = li; e < MIN_C * MIN_L; e += 256u) {
        let line = line0 + e % MIN_C;
        let pos = along0 + e / MIN_C;
        if (line < n_across && pos < n_along) {
            var i = line * n_along + pos;
            if (!AXIS_X) {
                i = pos * n_across + line;
            }
            dst[i] = finish(i, nan_min(win[cur + e], win[cur + e + second]));
        }
    }
}

//@@ box_y
// Box mean along y, radius R = params[0].x, edge mode "mirror", O(1) per
// pixel: running sums. The host prepends `const BOX_RUN: u32` (outputs per
// invocation) and `const BOX_W: u32` (workgroup width). Invocation = one
// column x and a run of BOX_RUN rows: neighbouring invocations are
// neighbouring columns, so every load and store of a workgroup is one
// contiguous stretch of a row (coalesced). The run starts from a direct sum
// of the 2 R + 1 taps at y0 - 1 (partial sums of 64), then slides:
// S(y) = S(y - 1) + (in[y + R] - in[y - 1 - R]). S sums deviations from the
// sample `base` at the first window's centre, mean = base + S / (2 R + 1):
// float32 rounding is then relative to the local variation, not to the
// values (the guided filter's variance cancels most on smooth data, where
// the deviations are smallest). Restarting each run from a
// direct sum bounds the float32 drift to BOX_RUN steps (the host keeps
// BOX_RUN <= 128, about one window: an error of the same order as a direct
// sum of the window).
@compute @workgroup_size(BOX_W)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let t = tile_index(wid);
    let w = dims.out_w;
    let h = dims.out_h;
    let x = t.x * BOX_W + lid.x;
    let y0 = t.y * BOX_RUN;
    if (x >= w || y0 >= h) {
        return;
    }
    let r = i32(params[0].x);
    let taps = 2 * r + 1;
    let first = i32(y0) - 1 - r;
    // sums of deviations from the sample at the first window's centre: on
    // smooth data they stay small, and so do their rounding errors
    let base = src0[mirror(i32(y0) - 1, h) * w + x];
    var s = vec4<f32>(0.0);
    for (var k0 = 0; k0 < taps; k0 += 64) {
        var part = vec4<f32>(0.0);
        let k1 = min(k0 + 64, taps);
        for (var k = k0; k < k1; k++) {
            part += src0[mirror(first + k, h) * w + x] - base;
        }
        s += part;
    }
    let scale = 1.0 / f32(taps);
    let y1 = min(y0 + BOX_RUN, h);
    for (var y = y0; y < y1; y++) {
        let enter = src0[mirror(i32(y) + r, h) * w + x];
        let leave = src0[mirror(i32(y) - 1 - r, h) * w + x];
        s += enter - leave;
        dst[y * w + x] = base + s * scale;
    }
}

//@@ box_x
// Box mean along x, radius R = params[0].x, edge mode "mirror", O(1) per
// pixel, then `finish_box` (the guided filter's next step) on the mean.
// The host prepends `const BOX_RUN: u32` (a multiple of 16). A 16 x 16
// workgroup owns 16 rows x BOX_RUN columns and walks along x 16 columns at
// a time: each invocation loads the sample entering and the one leaving the
// window of one output (16 adjacent pixels per row: coalesced, unlike one
// invocation per row, where the 32 lanes of a load touch 32 rows) and
// stores their difference in workgroup memory; output x of a row is then
// carry + d[0] + ... + d[x] in that order (the same float32 sums as a
// sequential running sum), and the last lane's value is the next carry.
// Each row's run starts from a direct sum of its 2 R + 1 taps (16 lanes of
// strided partial sums), so float32 drift is bounded by BOX_RUN steps.
// Rows past the image repeat the last row (they must reach the barriers)
// and write nothing.
var<workgroup> diffs: array<vec4<f32>, 256>;
var<workgroup> carry: array<vec4<f32>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let t = tile_index(wid);
    let w = dims.out_w;
    let h = dims.out_h;
    let x0 = t.x * BOX_RUN;
    let row0 = t.y * 16u;
    if (x0 >= w || row0 >= h) {
        return;  // a spare workgroup of the folded dispatch (uniform)
    }
    let y = min(row0 + lid.y, h - 1u);
    let row = y * w;
    let me = lid.y * 16u + lid.x;
    let r = i32(params[0].x);
    let taps = 2 * r + 1;
    let first = i32(x0) - 1 - r;
    // sums of deviations from the sample at the first window's centre (box_y)
    let base = src0[row + mirror(i32(x0) - 1, w)];
    var part = vec4<f32>(0.0);
    for (var k = i32(lid.x); k < taps; k += 16) {
        part += src0[row + mirror(first + k, w)] - base;
    }
    diffs[me] = part;
    workgroupBarrier();
    var s = vec4<f32>(0.0);
    for (var k = 0u; k < 16u; k++) {
        s += diffs[lid.y * 16u + k];
    }
    workgroupBarrier();
    let scale = 1.0 / f32(taps);
    let x_end = min(x0 + BOX_RUN, w);
    for (var xs = x0; xs < x_end; xs += 16u) {
        let x = xs + lid.x;
        let enter = src0[row + mirror(i32(x) + r, w)];
        let leave = src0[row + mirror(i32(x) - 1 - r, w)];
        diffs[me] = enter - leave;
        workgroupBarrier();
        var v = s;
        for (var k = 0u; k <= lid.x; k++) {
            v += diffs[lid.y * 16u + k];
        }
        if (lid.x == 15u) {
            carry[lid.y] = v;
        }
        if (x < w && row0 + lid.y < h) {
            dst[row + x] = finish_box(row + x, base + v * scale);
        }
        workgroupBarrier();
        s = carry[lid.y];
    }
}

//@@ fin_mean
// The box mean itself (tests of the box passes).
fn finish_box(i: u32, m: vec4<f32>) -> vec4<f32> {
    return m;
}

//@@ fin_coeffs
// Guided-filter coefficients from the box means m = (mean I, mean p,
// mean Ip, mean II): a = cov(I, p) / (var(I) + eps), b = mean p - a mean I.
// params[0].y = eps.
fn finish_box(i: u32, m: vec4<f32>) -> vec4<f32> {
    let var_i = m.w - m.x * m.x;
    let cov = m.z - m.x * m.y;
    let a = cov / (var_i + params[0].y);
    let b = m.y - a * m.x;
    return vec4<f32>(a, b, 0.0, 0.0);
}

//@@ fin_recover
// Scene radiance J = (I - A) / clamp(q, t0, 1) + A with the refined
// transmission q = mean_a (luma(I) - c) + mean_b (the guide shifted by c as
// in finish_pack); src1 = op input. params[0].y = t0, params[1] = (A, c).
// Alpha is kept.
fn finish_box(i: u32, ab: vec4<f32>) -> vec4<f32> {
    let c = src1[i];
    let q = ab.x * (luma(c) - params[1].w) + ab.y;
    let t = clamp(q, params[0].y, 1.0);
    let a = params[1].xyz;
    return vec4<f32>((c.xyz - a) / t + a, c.w);
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

// One 1-D correlation pass of a separable filter (see separable.py).
//
// The host prepends `const AXIS_X: bool = true|false;` (true: correlate
// along x, within rows; false: along y, within columns).
//
// params[0]     = (r, mode, cval, 0)   mode: 0 mirror (reflect-101),
//                 1 reflect (half-sample), 2 nearest, 3 wrap, 4 constant
// params[1 + k] = weight k (splatted to 4 lanes), k = 0 .. 2r
//
// Each 16x16 workgroup owns a 16x16 tile of outputs. Along the filtered
// axis the tile needs a window of 16 + 2r input samples; the window is
// streamed through workgroup memory in chunks of CHUNK samples (16 KiB, the
// guaranteed workgroup storage), so every input pixel is read from global
// memory once per tile and every tap after that comes from workgroup memory,
// for any radius. Each invocation sums its taps in a chunk into a partial
// sum and adds the partial sums (shorter float32 sums than one long one).
// Edge modes are applied when the window is loaded.

const TILE: u32 = 16u;
const CHUNK: u32 = 64u;

var<workgroup> window: array<vec4<f32>, 1024>;  // CHUNK x TILE samples

// Slot of window sample t (along the filtered axis) of line a: consecutive
// invocations (consecutive lid.x) touch consecutive slots in both passes.
fn slot(t: u32, a: u32) -> u32 {
    if (AXIS_X) {
        return a * CHUNK + t;
    }
    return t * TILE + a;
}

// Map position i onto [0, n) for the edge mode; -1 means "use cval".
// Remainders are taken of non-negative values in u32 only: signed `%` of a
// negative value was miscompiled by one Vulkan driver.
fn edge_index(i: i32, n: i32, mode: u32) -> i32 {
    if (i >= 0 && i < n) {
        return i;
    }
    let un = u32(n);
    switch mode {
        case 0u: {  // mirror: symmetric about 0, period 2n - 2
            if (n == 1) {
                return 0;
            }
            let period = 2u * un - 2u;
            let m = u32(abs(i)) % period;
            return i32(select(m, period - m, m >= un));
        }
        case 1u: {  // reflect: position -1 - j mirrors j, period 2n
            let j = select(u32(i), u32(-1 - i), i < 0);
            let period = 2u * un;
            let m = j % period;
            return i32(select(m, period - 1u - m, m >= un));
        }
        case 2u: {  // nearest
            return clamp(i, 0, n - 1);
        }
        case 3u: {  // wrap, period n
            if (i >= 0) {
                return i32(u32(i) % un);
            }
            let q = u32(-i) % un;
            return i32(select(0u, un - q, q != 0u));
        }
        default: {  // constant
            return -1;
        }
    }
}

fn load(along: i32, across: u32, cval: vec4<f32>, mode: u32) -> vec4<f32> {
    // `along`: position on the filtered axis; `across`: on the other axis.
    let w = dims.in_w;
    let h = dims.in_h;
    if (AXIS_X) {
        if (across >= h) {
            return vec4<f32>(0.0);
        }
        let sx = edge_index(along, i32(w), mode);
        if (sx < 0) {
            return cval;
        }
        return src0[across * w + u32(sx)];
    } else {
        if (across >= w) {
            return vec4<f32>(0.0);
        }
        let sy = edge_index(along, i32(h), mode);
        if (sy < 0) {
            return cval;
        }
        return src0[u32(sy) * w + across];
    }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let origin = pixel_coord(wid, vec3<u32>(0u, 0u, 0u));
    let p = origin + lid.xy;
    let r = u32(params[0].x);
    let mode = u32(params[0].y);
    let cval = vec4<f32>(params[0].z);
    let taps = 2u * r + 1u;
    let span = TILE + 2u * r;  // window length along the filtered axis

    // o: this invocation's offset along the filtered axis inside the tile;
    // a: its position across (row for AXIS_X, column otherwise).
    var o = lid.y;
    var a_local = lid.x;
    var start = i32(origin.y) - i32(r);
    var across0 = origin.x;
    if (AXIS_X) {
        o = lid.x;
        a_local = lid.y;
        start = i32(origin.x) - i32(r);
        across0 = origin.y;
    }

    let inside = p.x < dims.out_w && p.y < dims.out_h;
    var acc = vec4<f32>(0.0);
    for (var c0 = 0u; c0 < span; c0 += CHUNK) {
        let cw = min(CHUNK, span - c0);
        // load window samples [c0, c0 + cw) for the 16 lines of the tile
        for (var t = o; t < cw; t += TILE) {
            window[slot(t, a_local)] = load(start + i32(c0 + t), across0 + a_local, cval, mode);
        }
        workgroupBarrier();
        // taps k whose sample o + k lies in [c0, c0 + cw)
        let k_lo = select(0u, c0 - o, c0 > o);
        let k_hi = min(taps, c0 + cw - o);
        if (inside) {  // no barrier in here: invocations may diverge
            var part = vec4<f32>(0.0);
            for (var k = k_lo; k < k_hi; k++) {
                part += params[1u + k] * window[slot(o + k - c0, a_local)];
            }
            acc += part;
        }
        workgroupBarrier();
    }
    if (inside) {
        dst[p.y * dims.out_w + p.x] = acc;
    }
}

// Edge handling and sample loads shared by the 1-D correlation passes of
// separable filters (see separable.py, which generates each pass's `main`).
//
// The host prepends `const AXIS_X: bool = true|false;` (true: correlate
// along x, within rows; false: along y, within columns) and
// `const LOAD_LUMA: bool;` with `const LUMA_W: vec3<f32>;`: when true, every
// sample loaded is the luma wr * R + wg * G + wb * B of the input pixel in all
// four lanes (the pass reads an RGBA image and filters its luma).
//
// params[0]     = (r, mode, cval, 0)   mode: 0 mirror (reflect-101),
//                 1 reflect (half-sample), 2 nearest, 3 wrap, 4 constant
// params[1 + k] = weight k for each of the four lanes, k = 0 .. 2r

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

fn luma_of(c: vec4<f32>) -> vec4<f32> {
    if (LOAD_LUMA) {
        return vec4<f32>(LUMA_W.x * c.r + LUMA_W.y * c.g + LUMA_W.z * c.b);
    }
    return c;
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
        return luma_of(src0[across * w + u32(sx)]);
    } else {
        if (across >= w) {
            return vec4<f32>(0.0);
        }
        let sy = edge_index(along, i32(h), mode);
        if (sy < 0) {
            return cval;
        }
        return luma_of(src0[u32(sy) * w + across]);
    }
}

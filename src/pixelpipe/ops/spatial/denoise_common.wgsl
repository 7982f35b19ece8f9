// Helpers shared by the denoise passes (see denoise.py).
//
// Conversion rows (host-computed from the Rec.2020 luma weights):
//   conv0 = (Kr, Kg, Kb, 1 / Kg)
//   conv1 = (1 / (2 (1 - Kb)), 1 / (2 (1 - Kr)), 2 (1 - Kb), 2 (1 - Kr))

// True when v is neither NaN nor +-Inf: tested on the bits (all-ones
// exponent), since comparisons with NaN may be folded away by compilers.
fn is_finite_f(v: f32) -> bool {
    return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

fn rgb_finite(c: vec4<f32>) -> bool {
    return is_finite_f(c.x) && is_finite_f(c.y) && is_finite_f(c.z);
}

// Linear RGB -> (Y, Cb, Cr, 0); a pixel with a non-finite R, G or B enters as black.
fn to_ycc(c: vec4<f32>, conv0: vec4<f32>, conv1: vec4<f32>) -> vec4<f32> {
    if (!rgb_finite(c)) {
        return vec4<f32>(0.0);
    }
    let y = conv0.x * c.x + conv0.y * c.y + conv0.z * c.z;
    return vec4<f32>(y, (c.z - y) * conv1.x, (c.x - y) * conv1.y, 0.0);
}

fn to_rgb(v: vec4<f32>, conv0: vec4<f32>, conv1: vec4<f32>) -> vec3<f32> {
    let r = v.x + conv1.w * v.z;
    let b = v.x + conv1.z * v.y;
    let g = (v.x - conv0.x * r - conv0.z * b) * conv0.w;
    return vec3<f32>(r, g, b);
}

// Reflect-101 (mirror) index of position i on an axis of n samples, for
// any i: period 2n - 2, symmetric about 0. Remainders are taken of
// non-negative values in u32 only (the sign of a negative `%` is not
// portable across drivers).
fn mirror_index(i: i32, n: i32) -> u32 {
    if (i >= 0 && i < n) {
        return u32(i);
    }
    if (n == 1) {
        return 0u;
    }
    let un = u32(n);
    let period = 2u * un - 2u;
    let m = u32(abs(i)) % period;
    return select(m, period - m, m >= un);
}

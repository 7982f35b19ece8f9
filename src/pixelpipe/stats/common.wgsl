// Shared by the statistics kernels (prepended to each of them).
//
// The image is bound as a flat array of float32 samples, `channels` per
// pixel, pixels row-major. A "slot" is one statistic row: slots
// 0 .. channels-1 are the channels, slot `channels` is the luma.
//
// Values are classified from their bit patterns, never with float
// comparisons: WGSL lets implementations assume that NaN and Inf do not
// occur and lets GPUs flush subnormals to zero, so `v != v` or `v < lo`
// could differ from IEEE-754. The order-preserving key of a float
// (`order_key`) compares as an unsigned integer exactly as the float
// compares under IEEE-754 (with -0 == +0), whatever the hardware does.

struct Sampling {
    n_pixels: u32,   // pixels in the bound chunk
    channels: u32,   // samples per pixel (1 .. 4)
    luma_rgb: u32,   // 1: the luma slot weighs R, G, B; 0: it is channel 0
    zero: u32,       // always 0 (see `product`)
    w: vec4<f32>,    // luma weights (R, G, B, unused)
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<uniform> smp: Sampling;

const SIGN: u32 = 0x80000000u;
const MAGNITUDE: u32 = 0x7fffffffu;
const EXP_ALL: u32 = 0x7f800000u;  // bits of +Inf
const QNAN: u32 = 0x7fc00000u;

fn is_nan(b: u32) -> bool {
    return (b & MAGNITUDE) > EXP_ALL;
}

fn is_inf(b: u32) -> bool {
    return (b & MAGNITUDE) == EXP_ALL;
}

// Key of a non-NaN float's bits: key(a) < key(b) iff a < b; -0 and +0 share
// the key of +0.
fn order_key(b: u32) -> u32 {
    if (b == SIGN) {
        return SIGN;
    }
    if ((b & SIGN) != 0u) {
        return ~b;
    }
    return b | SIGN;
}

// w * c, rounded once. The XOR with a zero the compiler cannot see through
// stops it from contracting the product and the following addition into a
// fused multiply-add, which rounds once instead of twice and would make the
// luma differ from the reference in the last bit.
fn product(w: f32, c: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(w * c) ^ smp.zero);
}

// Bits of (wr*R + wg*G) + wb*B for the pixel whose samples start at `base`,
// with IEEE-754 special values decided explicitly.
fn luma_bits(base: u32) -> u32 {
    let r = bitcast<u32>(src[base]);
    let g = bitcast<u32>(src[base + 1u]);
    let b = bitcast<u32>(src[base + 2u]);
    if (is_nan(r) || is_nan(g) || is_nan(b)) {
        return QNAN;
    }
    let pos = r == EXP_ALL || g == EXP_ALL || b == EXP_ALL;
    let neg = r == (EXP_ALL | SIGN) || g == (EXP_ALL | SIGN) || b == (EXP_ALL | SIGN);
    if (pos && neg) {
        return QNAN;
    }
    if (pos) {
        return EXP_ALL;
    }
    if (neg) {
        return EXP_ALL | SIGN;
    }
    let y = (product(smp.w.x, bitcast<f32>(r)) + product(smp.w.y, bitcast<f32>(g)))
        + product(smp.w.z, bitcast<f32>(b));
    return bitcast<u32>(y);
}

// Bits of slot `slot` of pixel `p`.
fn sample_bits(p: u32, slot: u32) -> u32 {
    let base = p * smp.channels;
    if (slot < smp.channels) {
        return bitcast<u32>(src[base + slot]);
    }
    if (smp.luma_rgb == 1u) {
        return luma_bits(base);
    }
    return bitcast<u32>(src[base]);
}

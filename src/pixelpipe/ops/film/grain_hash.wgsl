// Grain noise (see grain.py, steps 1-2): the integer hash and its shaping.
// Only uint32 arithmetic (wrapping) until the exact conversion of a sum
// below 2^24 to f32, so the noise is bit-identical to the NumPy reference.

fn pcg(v: u32) -> u32 {
    let s = v * 747796405u + 2891336453u;
    let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
    return (w >> 22u) ^ w;
}

fn join16(lo: f32, hi: f32) -> u32 {
    return u32(lo) | (u32(hi) << 16u);
}

// Unit-variance noise of `octave` (0: h1..h4, 1: h5..h8) at absolute
// coordinates (yy, xx) mod 2^32; `hs` = pcg(seed).
fn grain_noise(yy: u32, xx: u32, hs: u32, octave: u32) -> f32 {
    var h = pcg(xx + pcg(yy + hs));
    for (var k = 0u; k < 4u * octave; k++) {
        h = pcg(h);
    }
    var total = 0u;
    for (var k = 0u; k < 4u; k++) {
        total += h >> 10u;
        h = pcg(h);
    }
    let u = f32(total) * 2.384185791015625e-7 - 2.0;  // 2^-22, exact
    return u * 1.7320508;  // f32(sqrt(3))
}

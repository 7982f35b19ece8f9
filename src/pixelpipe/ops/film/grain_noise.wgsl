// Grain, pass 1: the unit-variance noise image (see grain.py, steps 1-2).
// No inputs. Output pixel (i, j) holds the noise at absolute coordinates
// (Y, X) = (y0 + i, x0 + j) mod 2^32: channel 0 octave 0, channel 1 octave 1.
// params[0] = (seed low 16 bits, seed high 16 bits, 0, 0)
// params[1] = (y0 low, y0 high, x0 low, x0 high)
// Only uint32 arithmetic (wrapping) until the exact conversion of a sum
// below 2^24 to f32, so the result is bit-identical to the NumPy reference.

fn pcg(v: u32) -> u32 {
    let s = v * 747796405u + 2891336453u;
    let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
    return (w >> 22u) ^ w;
}

fn join16(lo: f32, hi: f32) -> u32 {
    return u32(lo) | (u32(hi) << 16u);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let seed = join16(params[0].x, params[0].y);
    let y0 = join16(params[1].x, params[1].y);
    let x0 = join16(params[1].z, params[1].w);
    var h = pcg((x0 + p.x) + pcg((y0 + p.y) + pcg(seed)));
    var n = vec2<f32>(0.0);
    for (var octave = 0u; octave < 2u; octave++) {
        var total = 0u;
        for (var k = 0u; k < 4u; k++) {
            total += h >> 10u;
            h = pcg(h);
        }
        let u = f32(total) * 2.384185791015625e-7 - 2.0;  // 2^-22, exact
        n[octave] = u * 1.7320508;  // f32(sqrt(3))
    }
    dst[p.y * dims.out_w + p.x] = vec4<f32>(n, 0.0, 0.0);
}

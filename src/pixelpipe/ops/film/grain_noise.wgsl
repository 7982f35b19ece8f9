// The grain's unit-variance noise image alone (see grain.py, steps 1-2;
// `Grain.noise_pass`). No inputs. Output pixel (i, j) holds the noise at
// absolute coordinates (Y, X) = (y0 + i, x0 + j) mod 2^32: channel 0
// octave 0, channel 1 octave 1. Needs grain_hash.wgsl before it.
// params[0] = (seed low 16 bits, seed high 16 bits, 0, 0)
// params[1] = (y0 low, y0 high, x0 low, x0 high)

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let hs = pcg(join16(params[0].x, params[0].y));
    let yy = join16(params[1].x, params[1].y) + p.y;
    let xx = join16(params[1].z, params[1].w) + p.x;
    let n = vec2<f32>(grain_noise(yy, xx, hs, 0u), grain_noise(yy, xx, hs, 1u));
    dst[p.y * dims.out_w + p.x] = vec4<f32>(n, 0.0, 0.0);
}

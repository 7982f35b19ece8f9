// Grain in one pass (see grain.py): each 16 x 16 tile generates the noise
// of its tile grown by R on every side into workgroup memory, blurs it along
// x, then along y, and adds the midtone-weighted result to R, G, B. Nothing
// but the input and the output touches global memory. Needs grain_hash.wgsl.
// The result goes through `epilogue` (GpuPass.epilogue).
// params[0] = (R, octaves, 0, 0)            R <= MAXR
// params[1] = (seed low 16 bits, seed high 16 bits, 0, 0)
// params[2] = (origin y low, high, origin x low, high): absolute coordinates
//             of this image's top-left pixel
// params[3] = (luma R, luma G, luma B, 0)
// params[4] = (weight at black/white, 4 * (1 - that weight), a0, a1)
// params[5 + k] = (octave 0 weight k, octave 1 weight k, 0, 0), k = 0 .. 2R
//                 (each octave's kernel zero-padded to radius R)

const MAXR: u32 = 15u;
const SPAN: u32 = 46u;  // 16 + 2 MAXR

var<workgroup> noise_tile: array<f32, 2116>;  // SPAN x SPAN
var<workgroup> rows_tile: array<f32, 736>;  // SPAN x 16

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let t = tile_index(wid);
    let ox = t.x * 16u;
    let oy = t.y * 16u;
    let r = u32(params[0].x);
    let octaves = u32(params[0].y);
    let span = 16u + 2u * r;
    let taps = 2u * r + 1u;
    let hs = pcg(join16(params[1].x, params[1].y));
    // absolute coordinates of the grown tile's corner (u32 arithmetic wraps)
    let y0 = join16(params[2].x, params[2].y) + oy - r;
    let x0 = join16(params[2].z, params[2].w) + ox - r;
    var g = 0.0;
    for (var o = 0u; o < octaves; o++) {
        for (var idx = li; idx < span * span; idx += 256u) {
            noise_tile[idx] = grain_noise(y0 + idx / span, x0 + idx % span, hs, o);
        }
        workgroupBarrier();
        for (var idx = li; idx < span * 16u; idx += 256u) {
            let row = (idx / 16u) * span + idx % 16u;
            var s = 0.0;
            for (var k = 0u; k < taps; k++) {
                s += params[5u + k][o] * noise_tile[row + k];
            }
            rows_tile[idx] = s;
        }
        workgroupBarrier();
        var v = 0.0;
        for (var k = 0u; k < taps; k++) {
            v += params[5u + k][o] * rows_tile[(lid.y + k) * 16u + lid.x];
        }
        g += params[4][2u + o] * v;
        workgroupBarrier();  // the next octave overwrites the tiles
    }
    let p = vec2<u32>(ox + lid.x, oy + lid.y);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let c = src0[i];
    let w = params[3];
    let y = c.r * w.x + c.g * w.y + c.b * w.z;
    // NaN and +-Inf luma count as 0 (abs(NaN) <= max is false)
    let v = select(0.0, clamp(y, 0.0, 1.0), abs(y) <= 3.4028235e38);
    let m = params[4].x + params[4].y * (v * (1.0 - v));
    dst[i] = epilogue(vec4<f32>(c.rgb + vec3<f32>(g * m), c.a));
}

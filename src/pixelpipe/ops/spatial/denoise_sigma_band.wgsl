// Finest-band keys for the exact GPU median of |w1| (see denoise.py,
// `gpu_noise_sigma`). Not a backend GpuPass: own bindings (0: the op input,
// RGBA f32; 1: cfg; 2: keys, 3 planes of width * height u32).
//
// One workgroup per 16 x 16 output tile computes the finest a trous band
// w1 = c0 - c1 of Y/Cb/Cr (c1: the 5 x 5 B3 kernel, mirror edges) and stores
// the float32 bits of |w1| per channel: for values >= 0 the bits order like
// the values, so the median is found on them exactly. The tile's 20 x 20
// Y/Cb/Cr samples (2-pixel margins) are converted once into workgroup
// memory; the 5 taps along x of the 20 rows follow, then the 5 along y (the
// order of the sums of the 5 x 5 kernel written row by row). The tiles are
// numbered row-major and the dispatch folded into (x, y) so that any
// image fits in 65,535 workgroups per dimension.

@group(0) @binding(0) var<storage, read> img: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> cfg: Cfg;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;

const T: u32 = 16u;       // outputs per tile side
const S: u32 = 20u;       // samples per tile side: T + 2 x 2
var<workgroup> ycc: array<vec4<f32>, 400>;   // S x S
var<workgroup> rows: array<vec4<f32>, 320>;  // S rows x T columns: the sums along x

fn b3(k: u32) -> f32 {
    return select(select(0.375, 0.25, k == 1u || k == 3u), 0.0625, k == 0u || k == 4u);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let tiles_x = (cfg.w + T - 1u) / T;
    let tiles = tiles_x * ((cfg.h + T - 1u) / T);
    let t = wid.y * nwg.x + wid.x;
    if (t >= tiles) {
        return;  // the whole workgroup: barriers stay in uniform control flow
    }
    let x0 = i32((t % tiles_x) * T) - 2;
    let y0 = i32((t / tiles_x) * T) - 2;
    for (var k = li; k < S * S; k += 256u) {
        let sx = mirror_index(x0 + i32(k % S), i32(cfg.w));
        let sy = mirror_index(y0 + i32(k / S), i32(cfg.h));
        ycc[k] = to_ycc(img[sy * cfg.w + sx], cfg.conv0, cfg.conv1);
    }
    workgroupBarrier();
    for (var k = li; k < S * T; k += 256u) {
        let at = (k / T) * S + k % T;
        var row = vec4<f32>(0.0);
        for (var b = 0u; b < 5u; b++) {
            row += b3(b) * ycc[at + b];
        }
        rows[k] = row;
    }
    workgroupBarrier();
    let lx = li % T;
    let ly = li / T;
    let x = u32(x0 + 2) + lx;
    let y = u32(y0 + 2) + ly;
    if (x >= cfg.w || y >= cfg.h) {
        return;
    }
    var c1 = vec4<f32>(0.0);
    for (var a = 0u; a < 5u; a++) {
        c1 += b3(a) * rows[(ly + a) * T + lx];
    }
    let w1 = abs(ycc[(ly + 2u) * S + lx + 2u] - c1);
    let n = cfg.w * cfg.h;
    let i = y * cfg.w + x;
    keys[i] = bitcast<u32>(w1.x);
    keys[n + i] = bitcast<u32>(w1.y);
    keys[2u * n + i] = bitcast<u32>(w1.z);
}

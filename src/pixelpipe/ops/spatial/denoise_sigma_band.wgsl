// Finest-band keys for the exact GPU median of |w1| (see denoise.py,
// `gpu_noise_sigma`). Not a backend GpuPass: own bindings (0: the op input,
// RGBA f32; 1: cfg; 2: keys, 3 planes of width * height u32).
//
// Every invocation walks pixels gid, gid + stride, ... (a 1-D dispatch of at
// most 65,535 workgroups covers any image), computes the finest a trous
// band w1 = c0 - c1 of Y/Cb/Cr (c1: the 5 x 5 B3 kernel, mirror edges) and
// stores the float32 bits of |w1| per channel: for values >= 0 the bits
// order like the values, so the median is found on them exactly.

@group(0) @binding(0) var<storage, read> img: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> cfg: Cfg;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;

fn ycc_at(x: i32, y: i32) -> vec4<f32> {
    let w = cfg.w;
    let v = img[mirror_index(y, i32(cfg.h)) * w + mirror_index(x, i32(w))];
    return to_ycc(v, cfg.conv0, cfg.conv1);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let n = cfg.w * cfg.h;
    let stride = nwg.x * 256u;
    var h = array<f32, 5>(0.0625, 0.25, 0.375, 0.25, 0.0625);
    for (var i = gid.x; i < n; i += stride) {
        let x = i32(i % cfg.w);
        let y = i32(i / cfg.w);
        var c1 = vec4<f32>(0.0);
        for (var a = 0; a < 5; a++) {
            var row = vec4<f32>(0.0);
            for (var b = 0; b < 5; b++) {
                row += h[b] * ycc_at(x + b - 2, y + a - 2);
            }
            c1 += h[a] * row;
        }
        let w1 = abs(ycc_at(x, y) - c1);
        keys[i] = bitcast<u32>(w1.x);
        keys[n + i] = bitcast<u32>(w1.y);
        keys[2u * n + i] = bitcast<u32>(w1.z);
    }
}

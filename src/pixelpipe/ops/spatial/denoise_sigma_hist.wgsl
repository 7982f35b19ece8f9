// One radix step of the exact GPU median of |w1| (see denoise.py,
// `gpu_noise_sigma`). Own bindings (0: keys from denoise_sigma_band.wgsl;
// 1: cfg; 2: 4096 u32 counters).
//
// Counts the keys of plane `channel` that match `prefix` under `mask` in
// bin (key >> shift) & 0xfff: a workgroup histogram first, then added to
// the global one. Barriers are in uniform control flow.

@group(0) @binding(0) var<storage, read> keys: array<u32>;
@group(0) @binding(1) var<uniform> cfg: Cfg;
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;

const BINS: u32 = 4096u;
var<workgroup> local_hist: array<atomic<u32>, 4096>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var b = li; b < BINS; b += 256u) {
        atomicStore(&local_hist[b], 0u);
    }
    workgroupBarrier();
    let n = cfg.w * cfg.h;
    let base = cfg.channel * n;
    let stride = nwg.x * 256u;
    for (var i = gid.x; i < n; i += stride) {
        let key = keys[base + i];
        if ((key & cfg.mask) == cfg.prefix) {
            atomicAdd(&local_hist[(key >> cfg.shift) & 0xfffu], 1u);
        }
    }
    workgroupBarrier();
    for (var b = li; b < BINS; b += 256u) {
        let c = atomicLoad(&local_hist[b]);
        if (c != 0u) {
            atomicAdd(&hist[b], c);
        }
    }
}

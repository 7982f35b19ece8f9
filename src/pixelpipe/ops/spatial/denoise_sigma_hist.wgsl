// One radix step of the exact GPU median of |w1| (see denoise.py,
// `gpu_noise_sigma`). Own bindings (0: keys from denoise_sigma_band.wgsl;
// 1: cfg of this step; 2: SEARCHES regions of BINS u32 counters; 3: the
// search state, read only).
//
// Workgroup row wid.y is search s: it counts the keys of plane s / 2 that
// match the search's prefix (from the state slot of this step) under
// cfg.mask in bin (key >> cfg.shift) & 0xfff, in histogram region s: a
// workgroup histogram first, then added to the global one. When search s
// shares search s - 1's histogram (the two ranks of a channel with one
// prefix) its workgroups clear, count and add nothing. Barriers are in uniform control flow
// (the loop bound may differ between workgroups, never inside one; loops
// rejoin before each barrier).

@group(0) @binding(0) var<storage, read> keys: array<u32>;
@group(0) @binding(1) var<uniform> cfg: Cfg;
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> state: array<u32>;

var<workgroup> local_hist: array<atomic<u32>, 4096>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let s = wid.y;
    let at = cfg.step * SLOT_WORDS + s * STATE_WORDS;
    let prefix = state[at];
    // s - 1's prefix (s >= 1 read only; s = 0 reads its own, never shared)
    let prev = state[at - select(0u, STATE_WORDS, s > 0u)];
    let borrows = shares_previous(prefix, prev, s);
    // a shared search's workgroups clear, count and add nothing
    let bins = select(BINS, 0u, borrows);
    let n = cfg.w * cfg.h;
    let count_n = select(n, 0u, borrows);
    for (var b = li; b < bins; b += 256u) {
        atomicStore(&local_hist[b], 0u);
    }
    workgroupBarrier();
    let base = (s >> 1u) * n;
    let stride = nwg.x * 256u;
    for (var i = gid.x; i < count_n; i += stride) {
        let key = keys[base + i];
        if ((key & cfg.mask) == prefix) {
            atomicAdd(&local_hist[(key >> cfg.shift) & 0xfffu], 1u);
        }
    }
    workgroupBarrier();
    let region = s * BINS;
    for (var b = li; b < bins; b += 256u) {
        let c = atomicLoad(&local_hist[b]);
        if (c != 0u) {
            atomicAdd(&hist[region + b], c);
        }
    }
}

// Histogram with workgroup-local atomics (after common.wgsl).
//
// One pass counts slots slot0 .. slot0+nslots-1 over the bin window
// first_bin .. first_bin+window-1 (the whole histogram when it fits the
// workgroup memory; the host splits it into passes otherwise). Each
// workgroup counts into its own `local` histogram and adds it to the global
// `counts` once, so global atomics are few whatever the image size.
//
// Bin rule (equal to numpy.histogram with `range`): bin i holds
// edges[i] <= v < edges[i+1], the last bin also v == edges[bins]. The float
// estimate (v - lo) * scale only picks the starting bin; the bin is then
// settled by integer comparisons against the edges' order keys, so it is
// exact on any hardware.

struct HistParams {
    bins: u32,       // bins of the whole histogram
    first_bin: u32,  // first bin counted by this pass
    window: u32,     // bins counted by this pass
    slot0: u32,      // first slot counted by this pass
    nslots: u32,     // slots counted by this pass
    tails: u32,      // 1: this pass also counts underflow, overflow and NaN
    lo: f32,         // edges[0]
    scale: f32,      // bins / (edges[bins] - edges[0]) in float32
}

@group(0) @binding(2) var<uniform> hp: HistParams;
@group(0) @binding(3) var<storage, read> edge_keys: array<u32>;        // bins + 1 keys
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;  // [slot][bins + 3]

const NONE: u32 = 0xffffffffu;

// Counters per workgroup: nslots * (window + 3), filled in by the host.
var<workgroup> local: array<atomic<u32>, WG_COUNTERS>;

// Index in a local row (window bins, then underflow, overflow, NaN) or NONE.
fn classify(b: u32) -> u32 {
    if (is_nan(b)) {
        return select(NONE, hp.window + 2u, hp.tails == 1u);
    }
    let key = order_key(b);
    if (key < edge_keys[0]) {
        return select(NONE, hp.window, hp.tails == 1u);
    }
    if (key > edge_keys[hp.bins]) {
        return select(NONE, hp.window + 1u, hp.tails == 1u);
    }
    let est = (bitcast<f32>(b) - hp.lo) * hp.scale;
    var i = u32(clamp(est, 0.0, f32(hp.bins - 1u)));
    loop {
        if (i == 0u || key >= edge_keys[i]) {
            break;
        }
        i -= 1u;
    }
    loop {
        if (i + 1u >= hp.bins || key < edge_keys[i + 1u]) {
            break;
        }
        i += 1u;
    }
    if (i < hp.first_bin || i >= hp.first_bin + hp.window) {
        return NONE;
    }
    return i - hp.first_bin;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = hp.window + 3u;
    let used = hp.nslots * row;
    for (var i = li; i < used; i += 256u) {
        atomicStore(&local[i], 0u);
    }
    workgroupBarrier();

    let stride = nwg.x * 256u;
    for (var p = wid.x * 256u + li; p < smp.n_pixels; p += stride) {
        for (var k = 0u; k < hp.nslots; k += 1u) {
            let c = classify(sample_bits(p, hp.slot0 + k));
            if (c != NONE) {
                atomicAdd(&local[k * row + c], 1u);
            }
        }
    }
    workgroupBarrier();

    let global_row = hp.bins + 3u;
    for (var i = li; i < used; i += 256u) {
        let n = atomicLoad(&local[i]);
        if (n != 0u) {
            let k = i / row;
            let j = i % row;
            var g = hp.bins + (j - hp.window);
            if (j < hp.window) {
                g = hp.first_bin + j;
            }
            atomicAdd(&counts[(hp.slot0 + k) * global_row + g], n);
        }
    }
}

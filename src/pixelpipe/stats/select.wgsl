// Exact order statistics by refinement in key space (after common.wgsl).
//
// A target is (slot, klo, khi, aux) + (cap, -, -, -): the values of one slot
// whose order keys lie in [klo, khi].
//
// `refine`: a histogram of each target's key range cut into `bins` bins of
// `aux` keys each, counted with workgroup-local atomics; the host then keeps
// the bin that holds the wanted rank and refines again.
// `gather`: copies the keys of each target (at most `cap` of them) to
// out[aux ..]; out[t] counts them. The host sorts these few keys.

struct SelectParams {
    target0: u32,   // first target of this pass
    ntargets: u32,  // targets in this pass
    bins: u32,      // refine: bins per target
    _pad: u32,
}

@group(0) @binding(2) var<uniform> sp: SelectParams;
@group(0) @binding(3) var<storage, read> targets: array<vec4<u32>>;  // 2 per target
@group(0) @binding(4) var<storage, read_write> out: array<atomic<u32>>;

// Counters per workgroup: ntargets * bins, filled in by the host.
var<workgroup> local: array<atomic<u32>, WG_COUNTERS>;

@compute @workgroup_size(256)
fn refine(@builtin(local_invocation_index) li: u32,
          @builtin(workgroup_id) wid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>) {
    let used = sp.ntargets * sp.bins;
    for (var i = li; i < used; i += 256u) {
        atomicStore(&local[i], 0u);
    }
    workgroupBarrier();

    let stride = nwg.x * 256u;
    for (var p = wid.x * 256u + li; p < smp.n_pixels; p += stride) {
        var slot = 0xffffffffu;
        var ok = false;
        var key = 0u;
        for (var t = 0u; t < sp.ntargets; t += 1u) {
            let tg = targets[2u * (sp.target0 + t)];
            if (tg.x != slot) {  // targets are sorted by slot: one sample per slot
                slot = tg.x;
                let b = sample_bits(p, slot);
                ok = !is_nan(b);
                key = order_key(b);
            }
            if (ok && key >= tg.y && key <= tg.z) {
                atomicAdd(&local[t * sp.bins + (key - tg.y) / tg.w], 1u);
            }
        }
    }
    workgroupBarrier();

    for (var i = li; i < used; i += 256u) {
        let n = atomicLoad(&local[i]);
        if (n != 0u) {
            atomicAdd(&out[sp.target0 * sp.bins + i], n);
        }
    }
}

@compute @workgroup_size(256)
fn gather(@builtin(local_invocation_index) li: u32,
          @builtin(workgroup_id) wid: vec3<u32>,
          @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * 256u;
    for (var p = wid.x * 256u + li; p < smp.n_pixels; p += stride) {
        var slot = 0xffffffffu;
        var ok = false;
        var key = 0u;
        for (var t = 0u; t < sp.ntargets; t += 1u) {
            let tg = targets[2u * (sp.target0 + t)];
            if (tg.x != slot) {
                slot = tg.x;
                let b = sample_bits(p, slot);
                ok = !is_nan(b);
                key = order_key(b);
            }
            if (ok && key >= tg.y && key <= tg.z) {
                let i = atomicAdd(&out[sp.target0 + t], 1u);
                if (i < targets[2u * (sp.target0 + t) + 1u].x) {
                    atomicStore(&out[tg.w + i], key);
                }
            }
        }
    }
}

// Min, max, sum and special-value counts per slot (after common.wgsl).
//
// Each invocation accumulates the pixels p = gid, gid + stride, ... in
// registers (sum of the finite values in float32, min / max as order keys,
// counts of NaN, +Inf, -Inf); the workgroup then reduces: the sums by a
// tree in workgroup memory, the rest with workgroup atomics. One record of
// 6 words per workgroup and slot goes to `partials`; the host combines the
// records, the sums in float64.

const MAX_SLOTS: u32 = 5u;
const RECORD: u32 = 6u;  // sum bits, min key, max key, NaN, +Inf, -Inf

struct ReduceParams {
    nslots: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(2) var<uniform> rp: ReduceParams;
@group(0) @binding(4) var<storage, read_write> partials: array<u32>;  // [group][slot][RECORD]

var<workgroup> wsum: array<f32, 256>;
var<workgroup> wstat: array<atomic<u32>, 25>;  // [slot][min, max, NaN, +Inf, -Inf]

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    if (li < MAX_SLOTS * 5u) {
        atomicStore(&wstat[li], select(0u, 0xffffffffu, li % 5u == 0u));
    }
    workgroupBarrier();

    var sum: array<f32, 5>;
    var lo: array<u32, 5>;
    var hi: array<u32, 5>;
    var nan: array<u32, 5>;
    var pinf: array<u32, 5>;
    var ninf: array<u32, 5>;
    for (var k = 0u; k < MAX_SLOTS; k += 1u) {
        sum[k] = 0.0;
        lo[k] = 0xffffffffu;
        hi[k] = 0u;
        nan[k] = 0u;
        pinf[k] = 0u;
        ninf[k] = 0u;
    }
    let stride = nwg.x * 256u;
    for (var p = wid.x * 256u + li; p < smp.n_pixels; p += stride) {
        for (var k = 0u; k < rp.nslots; k += 1u) {
            let b = sample_bits(p, k);
            if (is_nan(b)) {
                nan[k] += 1u;
                continue;
            }
            let key = order_key(b);
            lo[k] = min(lo[k], key);
            hi[k] = max(hi[k], key);
            if (is_inf(b)) {
                if ((b & SIGN) != 0u) {
                    ninf[k] += 1u;
                } else {
                    pinf[k] += 1u;
                }
            } else {
                sum[k] += bitcast<f32>(b);
            }
        }
    }
    for (var k = 0u; k < rp.nslots; k += 1u) {
        atomicMin(&wstat[k * 5u], lo[k]);
        atomicMax(&wstat[k * 5u + 1u], hi[k]);
        atomicAdd(&wstat[k * 5u + 2u], nan[k]);
        atomicAdd(&wstat[k * 5u + 3u], pinf[k]);
        atomicAdd(&wstat[k * 5u + 4u], ninf[k]);
    }

    let base = wid.x * rp.nslots;
    for (var k = 0u; k < rp.nslots; k += 1u) {
        wsum[li] = sum[k];
        workgroupBarrier();
        for (var s = 128u; s > 0u; s >>= 1u) {
            if (li < s) {
                wsum[li] += wsum[li + s];
            }
            workgroupBarrier();
        }
        if (li == 0u) {
            partials[(base + k) * RECORD] = bitcast<u32>(wsum[0]);
        }
        workgroupBarrier();
    }
    workgroupBarrier();
    if (li < rp.nslots * 5u) {
        let k = li / 5u;
        partials[(base + k) * RECORD + 1u + li % 5u] = atomicLoad(&wstat[li]);
    }
}

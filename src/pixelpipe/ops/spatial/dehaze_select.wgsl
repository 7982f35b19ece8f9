// Dehaze statistics on the GPU: exact selection of the airlight pixel (see
// dehaze.py, `gpu_airlight`). Standalone kernels (no image prelude): they
// read the statistics image (x = dark channel, y = intensity) as a flat
// array and write 32-bit counters with atomics. 1-D dispatch of 256-wide
// workgroups, each invocation looping over pixels gid, gid + stride, ...
//
// Floats are compared through their order keys (a u32 whose unsigned order
// is the float order); a pixel counts only when both its dark channel and
// its intensity are finite (tested on the bits).

struct Sel {
    n: u32,            // pixels
    shift: u32,        // histogram: the key bits counted are (key >> shift) & (bins - 1)
    prefix: u32,       // histogram: keys whose masked bits equal prefix; select: threshold key
    prefix_mask: u32,
    bins: u32,
    best: u32,         // `first`: the largest intensity key
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> img: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> sel: Sel;
@group(0) @binding(2) var<storage, read_write> counters: array<atomic<u32>>;

const WG: u32 = 256u;

var<workgroup> local_hist: array<atomic<u32>, 4096>;

fn finite_bits(b: u32) -> bool {
    return (b & 0x7f800000u) != 0x7f800000u;
}

fn order_key(b: u32) -> u32 {
    return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// One radix digit of the dark channel's order keys, among keys with the prefix.
@compute @workgroup_size(256)
fn hist(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    for (var b = li; b < sel.bins; b += WG) {
        atomicStore(&local_hist[b], 0u);
    }
    workgroupBarrier();
    let stride = nwg.x * WG;
    for (var i = gid.x; i < sel.n; i += stride) {
        let v = img[i];
        let db = bitcast<u32>(v.x);
        if (finite_bits(db) && finite_bits(bitcast<u32>(v.y))) {
            let k = order_key(db);
            if ((k & sel.prefix_mask) == sel.prefix) {
                atomicAdd(&local_hist[(k >> sel.shift) & (sel.bins - 1u)], 1u);
            }
        }
    }
    workgroupBarrier();
    for (var b = li; b < sel.bins; b += WG) {
        let c = atomicLoad(&local_hist[b]);
        if (c != 0u) {
            atomicAdd(&counters[b], c);
        }
    }
}

// counters[0] = max intensity key over the candidates (dark key >= sel.prefix).
@compute @workgroup_size(256)
fn brightest(@builtin(global_invocation_id) gid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * WG;
    for (var i = gid.x; i < sel.n; i += stride) {
        let v = img[i];
        let db = bitcast<u32>(v.x);
        let ib = bitcast<u32>(v.y);
        if (finite_bits(db) && finite_bits(ib) && order_key(db) >= sel.prefix) {
            atomicMax(&counters[0], order_key(ib));
        }
    }
}

// counters[0] = smallest index of a candidate whose intensity key is sel.best.
@compute @workgroup_size(256)
fn first(@builtin(global_invocation_id) gid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let stride = nwg.x * WG;
    for (var i = gid.x; i < sel.n; i += stride) {
        let v = img[i];
        let db = bitcast<u32>(v.x);
        let ib = bitcast<u32>(v.y);
        if (finite_bits(db) && finite_bits(ib) && order_key(db) >= sel.prefix
            && order_key(ib) == sel.best) {
            atomicMin(&counters[0], i);
        }
    }
}

// Dehaze statistics on the GPU: exact selection of the airlight pixel (see
// dehaze.py, `gpu_airlight`). Standalone kernels (no image prelude). All of
// them are recorded into one command encoder and submitted once; the only
// value read back is `state[8..16]` (the selected pixel's RGBA and a flag).
//
// Order of dispatches (counters cleared to 0 before each `hist` and before
// `brightest`):
//   hist, select_digit   (round 0: digit of key bits 20..31)
//   hist, select_digit   (round 1: bits 8..19)
//   hist, select_digit   (round 2: bits 0..7)
//   brightest, first, fetch
//
// `img` is the statistics image (x = dark channel, y = intensity) read as a
// flat array, except for `fetch`, which reads the op's RGBA input.
// Floats are compared through their order keys (a u32 whose unsigned order
// is the float order; -0 is given the key of +0, since the reference
// compares floats and -0 == +0); a pixel counts only when both its dark
// channel and its intensity are finite (tested on the bits).

struct Sel {
    n: u32,            // pixels
    k: u32,            // rank sought: ceil(0.001 n), at least 1
    _pad0: u32,
    _pad1: u32,
}

// state (u32 words), written as [0, 0, 0, 0, 0, 0, 0, 0, ...] before the run:
//   0 round: radix round of the next `hist` / `select_digit` (0, 1, 2; 3 after)
//   1 prefix: key bits selected so far (after round 2: the threshold key)
//   2 mask: which key bits `prefix` holds
//   3 k: rank sought among the keys with that prefix (set in round 0)
//   4 empty: 1 when no pixel has a finite dark channel and intensity
//   8..11 result: RGBA bits of the selected pixel (`fetch`)
//   12 flag: 1 = pixel selected, 2 = no finite pixel, 0 = none (cannot happen)
//   16..19 row: A_r, A_g, A_b, luma(A) as f32 bits (the apply passes' params[1])
// The host prepends LUMA_R, LUMA_G, LUMA_B (Rec. 2020) and AIRLIGHT_FLOOR.
@group(0) @binding(0) var<storage, read> img: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> sel: Sel;
@group(0) @binding(2) var<storage, read_write> counters: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> state: array<u32>;

const WG: u32 = 256u;
const MAX_BINS: u32 = 4096u;

var<workgroup> local_hist: array<atomic<u32>, 4096>;
var<workgroup> scan: array<u32, 256>;

fn finite_bits(b: u32) -> bool {
    return (b & 0x7f800000u) != 0x7f800000u;
}

fn order_key(b: u32) -> u32 {
    let c = select(b, 0u, b == 0x80000000u);  // -0 -> +0
    return select(c | 0x80000000u, ~c, (c & 0x80000000u) != 0u);
}

// Radix digits, (shift, bits) per round: (20, 12), (8, 12), (0, 8).
fn digit_shift(rnd: u32) -> u32 {
    return select(select(0u, 8u, rnd == 1u), 20u, rnd == 0u);
}

fn digit_bins(rnd: u32) -> u32 {
    return select(256u, 4096u, rnd < 2u);
}

// One radix digit of the dark channel's order keys, among keys with the prefix.
@compute @workgroup_size(256)
fn hist(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let rnd = state[0];
    let prefix = state[1];
    let mask = state[2];
    let shift = digit_shift(rnd);
    let bins = digit_bins(rnd);
    for (var b = li; b < MAX_BINS; b += WG) {
        atomicStore(&local_hist[b], 0u);
    }
    workgroupBarrier();
    let stride = nwg.x * WG;
    for (var i = gid.x; i < sel.n; i += stride) {
        let v = img[i];
        let db = bitcast<u32>(v.x);
        if (finite_bits(db) && finite_bits(bitcast<u32>(v.y))) {
            let k = order_key(db);
            if ((k & mask) == prefix) {
                atomicAdd(&local_hist[(k >> shift) & (bins - 1u)], 1u);
            }
        }
    }
    workgroupBarrier();
    for (var b = li; b < MAX_BINS; b += WG) {
        let c = atomicLoad(&local_hist[b]);
        if (c != 0u) {
            atomicAdd(&counters[b], c);
        }
    }
}

// One workgroup: the digit of the k-th largest key from the round's
// histogram. Walking the bins from the largest key down, the digit is the
// first bin where the running count reaches k; k becomes the rank within
// that bin, and the digit joins the prefix. Invocation t holds the bins
// (bins - 1 - t per) down to (bins - t per - per), per = bins / 256: a
// workgroup prefix sum of their counts finds the one invocation whose range
// holds the crossing, which walks its bins.
@compute @workgroup_size(256)
fn select_digit(@builtin(local_invocation_index) t: u32) {
    let rnd = state[0];
    let prefix = state[1];
    let mask = state[2];
    let k_in = state[3];
    let empty = state[4];
    storageBarrier();  // every invocation has read the state before it is rewritten
    let shift = digit_shift(rnd);
    let bins = digit_bins(rnd);
    let per = bins / WG;
    let top = bins - 1u - t * per;
    var own = 0u;
    for (var j = 0u; j < per; j++) {
        own += atomicLoad(&counters[top - j]);
    }
    scan[t] = own;
    workgroupBarrier();
    for (var off = 1u; off < WG; off *= 2u) {  // inclusive prefix sum (Hillis-Steele)
        var v = scan[t];
        if (t >= off) {
            v += scan[t - off];
        }
        workgroupBarrier();
        scan[t] = v;
        workgroupBarrier();
    }
    let total = scan[WG - 1u];
    let after = scan[t];          // counts in the bins of invocations 0..t
    let before = after - own;     // ... of invocations 0..t-1
    var k = k_in;
    if (rnd == 0u) {
        k = min(sel.k, total);
    }
    if (rnd == 0u && total == 0u && t == 0u) {
        state[4] = 1u;
        state[0] = rnd + 1u;
    }
    if (empty == 0u && k >= 1u && before < k && k <= after) {
        var above = before;
        var digit = top;
        for (var j = 0u; j < per; j++) {
            let c = atomicLoad(&counters[top - j]);
            if (above + c >= k) {
                digit = top - j;
                break;
            }
            above += c;
        }
        state[0] = rnd + 1u;
        state[1] = prefix | (digit << shift);
        state[2] = mask | ((bins - 1u) << shift);
        state[3] = k - above;
    }
}

// counters[0] = max intensity key over the candidates (dark key >= threshold key).
@compute @workgroup_size(256)
fn brightest(@builtin(global_invocation_id) gid: vec3<u32>,
             @builtin(num_workgroups) nwg: vec3<u32>) {
    let threshold = state[1];
    let stride = nwg.x * WG;
    for (var i = gid.x; i < sel.n; i += stride) {
        let v = img[i];
        let db = bitcast<u32>(v.x);
        let ib = bitcast<u32>(v.y);
        if (finite_bits(db) && finite_bits(ib) && order_key(db) >= threshold) {
            atomicMax(&counters[0], order_key(ib));
        }
    }
}

// counters[1] = ~(smallest index of a candidate whose intensity key is
// counters[0]): atomicMax of ~i, so that the cleared 0 means "none" (~i > 0
// for every index below 2^32 - 1).
@compute @workgroup_size(256)
fn first(@builtin(global_invocation_id) gid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
    let threshold = state[1];
    let best = atomicLoad(&counters[0]);
    let stride = nwg.x * WG;
    for (var i = gid.x; i < sel.n; i += stride) {
        let v = img[i];
        let db = bitcast<u32>(v.x);
        let ib = bitcast<u32>(v.y);
        if (finite_bits(db) && finite_bits(ib) && order_key(db) >= threshold
            && order_key(ib) == best) {
            atomicMax(&counters[1], ~i);
        }
    }
}

// One invocation, `img` = the RGBA input: the selected pixel and the flag
// into state[8..12] and state[12], the parameter row of the apply passes into
// state[16..20].
@compute @workgroup_size(1)
fn fetch() {
    let c = atomicLoad(&counters[1]);
    var flag = 0u;
    var rgba = vec4<u32>(0u);
    if (state[4] != 0u) {
        flag = 2u;
    } else if (c != 0u) {
        flag = 1u;
        rgba = bitcast<vec4<u32>>(img[~c]);
    }
    state[8] = rgba.x;
    state[9] = rgba.y;
    state[10] = rgba.z;
    state[11] = rgba.w;
    state[12] = flag;
    // the apply passes' parameter row (A, luma(A)), as the host builds it:
    // A floored, or (1, 1, 1) without a finite pixel
    var a = vec3<f32>(1.0);
    if (flag == 1u) {
        a = max(bitcast<vec3<f32>>(rgba.xyz), vec3<f32>(AIRLIGHT_FLOOR));
    }
    state[16] = bitcast<u32>(a.x);
    state[17] = bitcast<u32>(a.y);
    state[18] = bitcast<u32>(a.z);
    state[19] = bitcast<u32>(LUMA_R * a.x + LUMA_G * a.y + LUMA_B * a.z);
}

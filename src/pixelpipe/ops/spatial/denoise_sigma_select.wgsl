// The digit selection of one radix step of the exact GPU median of |w1|
// (see denoise.py, `gpu_noise_sigma`): what a host would do with the
// read-back histograms, done on the GPU so that the steps need no
// round trip. Own bindings (0: the histograms of denoise_sigma_hist.wgsl;
// 1: cfg of this step; 2: the search state, slot step read, slot step + 1
// written).
//
// One workgroup per search s (dispatch SEARCHES x 1 x 1). With r the
// search's rank and t = r - below (the rank inside the prefix's range), the
// digit is the first bin j whose running count exceeds t, i.e. cum[j] > t
// with cum the inclusive prefix sum of the histogram; then
// below += cum[j - 1] and prefix |= j << shift. Invocation li sums bins
// 16 li .. 16 li + 15, a workgroup scan (Hillis-Steele) gives each
// invocation the counts before and through its range, and the one
// invocation whose range holds the crossing walks its 16 bins. When
// t >= the total count (the rank cannot be reached) the error flag is set
// and the count kept. Barriers are in uniform control flow.

@group(0) @binding(0) var<storage, read> hist: array<u32>;
@group(0) @binding(1) var<uniform> cfg: Cfg;
@group(0) @binding(2) var<storage, read_write> state: array<u32>;

const PER: u32 = 16u;  // BINS / 256 bins per invocation
var<workgroup> sums: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>) {
    let s = wid.x;
    let at = cfg.step * SLOT_WORDS + s * STATE_WORDS;
    let out = at + SLOT_WORDS;
    let prefix = state[at];
    let below = state[at + 1u];
    let err = state[at + 2u];
    let prev = state[at - select(0u, STATE_WORDS, s > 0u)];
    let region = select(s, s - 1u, shares_previous(prefix, prev, s)) * BINS;
    let rank = select(cfg.rank0, cfg.rank1, (s & 1u) == 1u);
    let t = rank - below;  // below <= rank while no error is set
    let first = region + li * PER;
    var own = 0u;
    for (var k = 0u; k < PER; k++) {
        own += hist[first + k];
    }
    sums[li] = own;
    workgroupBarrier();
    for (var off = 1u; off < 256u; off <<= 1u) {
        var v = sums[li];
        if (li >= off) {
            v += sums[li - off];
        }
        workgroupBarrier();
        sums[li] = v;
        workgroupBarrier();
    }
    let through = sums[li];
    let before = through - own;
    let total = sums[255];
    // every invocation has read `sums`: the state is written after this
    if (err != 0u || t >= total) {
        if (li == 0u) {
            state[out] = prefix;
            state[out + 1u] = below;
            state[out + 2u] = 1u;
            state[out + 3u] = select(total, state[at + 3u], err != 0u);
        }
    } else if (before <= t && t < through) {
        var run = before;
        var j = li * PER;
        for (var k = 0u; k < PER; k++) {
            let c = hist[first + k];
            if (run + c > t) {
                j = li * PER + k;
                break;
            }
            run += c;
        }
        state[out] = prefix | (j << cfg.shift);
        state[out + 1u] = below + run;
        state[out + 2u] = 0u;
        state[out + 3u] = 0u;
    }
}

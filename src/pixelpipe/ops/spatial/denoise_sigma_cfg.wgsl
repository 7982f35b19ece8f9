// Parameters shared by the kernels of the exact GPU median of |w1|
// (denoise_sigma_band.wgsl, denoise_sigma_hist.wgsl, denoise_sigma_select.wgsl;
// see denoise.py, `gpu_noise_sigma`, which fills them: one copy per radix
// step, written before the single submit).
//
// The search state lives in a storage buffer written by the GPU (`state`,
// array<u32>): slot k (k = 0 .. 3) holds the state before radix step k, 4
// words per search s = 0 .. 5 (s = 2 channel + rank index):
//   [prefix, below, error, count]
// prefix: the key bits found so far; below: keys of the channel under the
// prefix's range; error: 1 once the rank could not be reached; count: the
// keys counted in the prefix's range at that step (set with the error).

struct Cfg {
    w: u32,
    h: u32,
    step: u32,   // radix step 0 .. 2 (hist, select)
    shift: u32,  // the step's digit: bins (key >> shift) & 0xfff
    mask: u32,   // key bits fixed by the earlier steps
    rank0: u32,  // the two middle ranks (0-based; equal for odd w * h)
    rank1: u32,
    _pad0: u32,
    conv0: vec4<f32>,
    conv1: vec4<f32>,
}

const BINS: u32 = 4096u;
const SEARCHES: u32 = 6u;
const STATE_WORDS: u32 = 4u;
const SLOT_WORDS: u32 = 24u;  // SEARCHES * STATE_WORDS

// Search s at step k shares search s - 1's histogram (no pass of its own)
// when both are the two ranks of one channel and their prefixes agree.
fn shares_previous(state_prefix_s: u32, state_prefix_prev: u32, s: u32) -> bool {
    return (s & 1u) == 1u && state_prefix_s == state_prefix_prev;
}

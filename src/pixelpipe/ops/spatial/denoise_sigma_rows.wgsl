// The soft thresholds of every level from the GPU median of |w1| (see
// denoise.py, `gpu_threshold_rows`): the last kernel of the noise estimate
// when its result stays on the GPU. One invocation. Own bindings (0: the
// factors, per level the thresholds per unit median for Y, Cb, Cr; 2: the
// search state of denoise_sigma_select.wgsl, whose final slot holds each
// channel's two middle values; 3: the rows written, one vec4 per level,
// which the band passes copy into their parameters). The host prepends
// RADIX_STEPS, the number of radix steps (the final slot's index).

@group(0) @binding(0) var<storage, read> factors: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> rows: array<vec4<f32>>;

@compute @workgroup_size(1)
fn main() {
    let at = RADIX_STEPS * SLOT_WORDS;
    var median = vec3<f32>(0.0);
    for (var c = 0u; c < 3u; c++) {
        let lo = bitcast<f32>(state[at + (2u * c) * STATE_WORDS]);
        let hi = bitcast<f32>(state[at + (2u * c + 1u) * STATE_WORDS]);
        // halving is exact: one rounding, in the sum
        median[c] = lo * 0.5 + hi * 0.5;
    }
    for (var j = 0u; j < arrayLength(&factors); j++) {
        rows[j] = vec4<f32>(median * factors[j].xyz, 0.0);
    }
}

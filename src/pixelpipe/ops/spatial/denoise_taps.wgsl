// Tap helpers of the denoise transform passes (see denoise.py); they read
// src0 / src1, so only the backend GpuPasses include them (not the
// statistics kernels).
//
// Runs: an invocation computes RUN outputs along its pass's axis, spaced d
// (the level's dilation) apart, so that consecutive outputs share 4 of their
// 5 taps (a sliding window of 5 registers). A tile is 16 * RUN pixels along
// the axis and 16 across; lane l of the 16 along the axis starts at
// (l / d) * RUN * d + l % d (d divides 16), so the lanes of a tile cover it
// once.

const RUN: u32 = 8u;

fn run_start(tile: u32, lane: u32, d: u32) -> u32 {
    return tile * 16u * RUN + (lane / d) * RUN * d + lane % d;
}

// The 5-tap B3 sum with taps h = (1/16, 4/16, 6/16, _), in one fixed order:
// every pass that computes a level computes it with this expression.
fn b3(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, e: vec4<f32>, f: vec4<f32>,
      h: vec4<f32>) -> vec4<f32> {
    return h.x * a + h.y * b + h.z * c + h.y * e + h.x * f;
}

fn row_of(y: i32) -> u32 {
    return mirror_index(y, i32(dims.in_h)) * dims.in_w;
}

// Tap helpers of the denoise transform passes (see denoise.py); they read
// src0, so only the backend GpuPasses include them (not the statistics
// kernels).

// The 5-tap B3 sum with taps h = (1/16, 4/16, 6/16, _), in one fixed order:
// every pass that computes a level computes it with this expression.
fn b3(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, e: vec4<f32>, f: vec4<f32>,
      h: vec4<f32>) -> vec4<f32> {
    return h.x * a + h.y * b + h.z * c + h.y * e + h.x * f;
}

// Start indices of the rows y - 2 dy, y - dy, y, y + dy, y + 2 dy (mirrored)
// in an image of dims.in_w x dims.in_h pixels.
fn column_rows(y: u32, dy: i32) -> array<u32, 5> {
    let n = i32(dims.in_h);
    let w = dims.in_w;
    let yi = i32(y);
    return array<u32, 5>(
        mirror_index(yi - 2 * dy, n) * w, mirror_index(yi - dy, n) * w, y * w,
        mirror_index(yi + dy, n) * w, mirror_index(yi + 2 * dy, n) * w);
}

// Along-y B3 smoothing of src0 at column x over the rows of column_rows().
fn column(rows: array<u32, 5>, x: u32, h: vec4<f32>) -> vec4<f32> {
    return b3(src0[rows[0] + x], src0[rows[1] + x], src0[rows[2] + x],
              src0[rows[3] + x], src0[rows[4] + x], h);
}

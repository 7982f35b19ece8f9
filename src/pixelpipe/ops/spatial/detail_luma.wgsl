// Detail ops, first pass: BT.2020 luma of the (encoded) input, in all four lanes.
// params[0] = (wr, wg, wb, 0); Y = wr * R + wg * G + wb * B, summed in this order.

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let c = src0[i];
    let w = params[0];
    let y = w.x * c.r + w.y * c.g + w.z * c.b;
    dst[i] = vec4<f32>(y);
}

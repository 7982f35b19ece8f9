// Vignette (see vignette.py): one pass, one pixel per invocation.
// params[0] = (cx, cy, sx, sy)   centre and per-axis scales of the radius
// params[1] = (origin x, origin y, r0, 1 / (r1 - r0))
// params[2] = (|amount| / 100, 1 to lighten / 0 to darken, 0, 0)
// out.rgb = c.rgb * (1 - k) + k * lighten,  k = strength * smoothstep(t); alpha copied.

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let geo = params[0];
    let px = f32(p.x + u32(params[1].x)) + 0.5;
    let py = f32(p.y + u32(params[1].y)) + 0.5;
    let dx = (px - geo.x) * geo.z;
    let dy = (py - geo.y) * geo.w;
    let r = sqrt(dx * dx + dy * dy);
    let t = clamp((r - params[1].z) * params[1].w, 0.0, 1.0);
    let s = t * t * (3.0 - 2.0 * t);
    let k = params[2].x * s;
    let c = src0[i];
    dst[i] = vec4<f32>(c.rgb * (1.0 - k) + vec3<f32>(k * params[2].y), c.a);
}

// Prelude prepended to every pixelpipe compute shader. The backend adds the
// declarations of `dst` (binding 0) and the inputs `src0`, `src1` … (bindings
// 3 …) after it: RGBA float32 images, except in the sample-conversion kernels.
//
// Images are row-major arrays of RGBA float32 pixels. Invocations run in
// 16x16 workgroups, one pixel each, unless a pass declares another tile
// (GpuPass.tile). Workgroups are numbered linearly and folded onto the
// image's grid of tiles, so the dispatch stays within 65,535 workgroups per
// dimension for any image size (a plain 2-D dispatch cannot cover more than
// 1,048,560 rows or columns).

struct Dims {
    in_w: u32,
    in_h: u32,
    out_w: u32,
    out_h: u32,
    tiles_x: u32,   // tiles per row: ceil(out_w / 16), or / the pass's tile width
    groups_x: u32,  // workgroups dispatched along x
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(1) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> dims: Dims;

// (column, row) of this workgroup's tile in the grid of output tiles.
fn tile_index(wid: vec3<u32>) -> vec2<u32> {
    let tile = wid.y * dims.groups_x + wid.x;
    return vec2<u32>(tile % dims.tiles_x, tile / dims.tiles_x);
}

fn pixel_coord(wid: vec3<u32>, lid: vec3<u32>) -> vec2<u32> {
    let t = tile_index(wid);
    return vec2<u32>(t.x * 16u + lid.x, t.y * 16u + lid.y);
}

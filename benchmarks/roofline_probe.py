"""Probe: how close do simple WGSL copy kernels of different shapes come to the device's bandwidth?

Copies an RGBA float32 image (default 6000x4000) with several dispatch
shapes, timed with timestamp queries, beside CuPy's device copy when CuPy
is installed. Guides the dispatch shape of pixelpipe's kernels.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import wgpu

from pixelpipe.backends import get_backend

VARIANTS = {
    "16x16 tile, 1 px/thread": ("""
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> n: vec4<u32>;  // width, height, tiles_x, groups_x
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let tile = wid.y * n.w + wid.x;
    let x = (tile % n.z) * 16u + lid.x;
    let y = (tile / n.z) * 16u + lid.y;
    if (x >= n.x || y >= n.y) { return; }
    let i = y * n.x + x;
    dst[i] = src[i];
}""", "tile"),
    "256x1 linear, 1 px/thread": ("""
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> n: vec4<u32>;  // count, groups_x
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.y * n.y + wid.x) * 256u + lid.x;
    if (i >= n.x) { return; }
    dst[i] = src[i];
}""", "linear1"),
    "256x1 linear, 4 px/thread (strided by 256)": ("""
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> n: vec4<u32>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let base = (wid.y * n.y + wid.x) * 1024u + lid.x;
    for (var k = 0u; k < 4u; k++) {
        let i = base + k * 256u;
        if (i < n.x) { dst[i] = src[i]; }
    }
}""", "linear4"),
    "16x16 tile, 4 rows/thread (64 rows per tile)": ("""
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> n: vec4<u32>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let tile = wid.y * n.w + wid.x;
    let x = (tile % n.z) * 16u + lid.x;
    let y0 = (tile / n.z) * 64u + lid.y;
    if (x >= n.x) { return; }
    for (var k = 0u; k < 4u; k++) {
        let y = y0 + k * 16u;
        if (y < n.y) { let i = y * n.x + x; dst[i] = src[i]; }
    }
}""", "tile4"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", default="6000x4000")
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    be = get_backend("wgpu")
    dev = be.device
    npx = w * h
    nbytes = npx * 16
    u = wgpu.BufferUsage
    src = dev.create_buffer(size=nbytes, usage=u.STORAGE | u.COPY_DST)
    dst = dev.create_buffer(size=nbytes, usage=u.STORAGE | u.COPY_SRC)
    ubuf = dev.create_buffer(size=16, usage=u.UNIFORM | u.COPY_DST)
    qs = dev.create_query_set(type=wgpu.QueryType.timestamp, count=2)
    res = dev.create_buffer(size=16, usage=u.QUERY_RESOLVE | u.COPY_SRC)
    rb = dev.create_buffer(size=16, usage=u.MAP_READ | u.COPY_DST)
    maxg = be.max_groups
    print(f"device: {be.describe()}  image {w}x{h} RGBA f32 = {nbytes / 1e6:.0f} MB")
    for name, (code, kind) in VARIANTS.items():
        if kind in ("tile", "tile4"):
            rows = 16 if kind == "tile" else 64
            tiles_x = -(-w // 16)
            total = tiles_x * -(-h // rows)
            gx = min(total, maxg)
            gy = -(-total // gx)
            uni = np.array([w, h, tiles_x, gx], np.uint32)
        else:
            per = 256 if kind == "linear1" else 1024
            total = -(-npx // per)
            gx = min(total, maxg)
            gy = -(-total // gx)
            uni = np.array([npx, gx, 0, 0], np.uint32)
        dev.queue.write_buffer(ubuf, 0, uni)
        pipe = dev.create_compute_pipeline(layout="auto", compute={
            "module": dev.create_shader_module(code=code), "entry_point": "main"})
        bg = dev.create_bind_group(layout=pipe.get_bind_group_layout(0), entries=[
            {"binding": 0, "resource": {"buffer": dst}},
            {"binding": 1, "resource": {"buffer": src}},
            {"binding": 2, "resource": {"buffer": ubuf}}])
        times = []
        for _ in range(args.repeat + 1):
            enc = dev.create_command_encoder()
            cp = enc.begin_compute_pass(timestamp_writes={
                "query_set": qs, "beginning_of_pass_write_index": 0,
                "end_of_pass_write_index": 1})
            cp.set_pipeline(pipe)
            cp.set_bind_group(0, bg)
            cp.dispatch_workgroups(gx, gy, 1)
            cp.end()
            enc.resolve_query_set(qs, 0, 2, res, 0)
            enc.copy_buffer_to_buffer(res, 0, rb, 0, 16)
            dev.queue.submit([enc.finish()])
            rb.map_sync(wgpu.MapMode.READ)
            t = np.frombuffer(rb.read_mapped(), np.uint64)
            rb.unmap()
            times.append(float(t[1] - t[0]) * 1e-9)
        t = statistics.median(times[1:])
        print(f"{name:48s} {t * 1e3:8.3f} ms  {2 * nbytes / t / 1e12:6.2f} TB/s (read+write)")
    try:
        import cupy as cp_

        a = cp_.ones(nbytes // 4, cp_.float32)
        b = cp_.empty_like(a)
        e0, e1 = cp_.cuda.Event(), cp_.cuda.Event()
        times = []
        for _ in range(args.repeat + 1):
            e0.record()
            cp_.copyto(b, a)
            e1.record()
            e1.synchronize()
            times.append(cp_.cuda.get_elapsed_time(e0, e1) * 1e-3)
        t = statistics.median(times[1:])
        rate = 2 * nbytes / t / 1e12
        print(f"{'CuPy copyto':48s} {t * 1e3:8.3f} ms  {rate:6.2f} TB/s (read+write)")
    except ImportError:
        print("CuPy not installed")


if __name__ == "__main__":
    main()

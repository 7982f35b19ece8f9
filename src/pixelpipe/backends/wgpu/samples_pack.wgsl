// Sample conversion between the host's sample types and RGBA float32.
//
// The host prepends `const CH: u32` (channels of the samples: 1, 3 or 4) and
// `const KIND: u32` (0 uint8, 1 uint16, 2 float16, 3 float32). Samples travel
// as raw little-endian words (array<u32>), so no float load or store can
// touch their bits. Rules (pixelpipe.samples): integers map to v / (2^b - 1);
// back: round-half-even(clamp(v, 0, 1) * (2^b - 1)), NaN -> 0; float16 by
// IEEE round-to-nearest-even, overflow -> Inf, NaN kept; grey -> (g, g, g, 1),
// RGB -> (r, g, b, 1); RGBA -> grey keeps channel 0.

// RGBA float32 (dims.in_w x dims.in_h) -> packed samples: one invocation per
// 16-byte cell of the output, laid out as a dims.out_w x dims.out_h grid.
@group(0) @binding(0) var<storage, read_write> packed: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> src: array<vec4<f32>>;

// NaN and Inf are recognised from the bits: WGSL lets compilers assume that
// float arithmetic and comparisons never see them.
fn quantize(v: f32, top: f32) -> u32 {
    let b = bitcast<u32>(v);
    if ((b & 0x7f800000u) == 0x7f800000u) {  // Inf or NaN
        return select(0u, u32(top), b == 0x7f800000u);
    }
    return u32(round(clamp(v, 0.0, 1.0) * top));
}

// float32 -> binary16 bits, round to nearest even, overflow -> Inf, NaN kept.
fn half_bits(v: f32) -> u32 {
    let b = bitcast<u32>(v);
    let sign = (b >> 16u) & 0x8000u;
    let e = i32((b >> 23u) & 0xffu);
    let m = b & 0x7fffffu;
    if (e == 255) {
        return sign | 0x7c00u | select(0u, 0x200u | (m >> 13u), m != 0u);
    }
    let he = e - 127 + 15;
    if (he >= 31) {
        return sign | 0x7c00u;
    }
    if (he <= 0) {
        if (he < -10) {
            return sign;
        }
        let mm = m | 0x800000u;
        let shift = u32(14 - he);
        var r = mm >> shift;
        let rest = mm & ((1u << shift) - 1u);
        let half = 1u << (shift - 1u);
        if (rest > half || (rest == half && (r & 1u) == 1u)) {
            r += 1u;
        }
        return sign | r;
    }
    var r = (u32(he) << 10u) | (m >> 13u);
    let rest = m & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (r & 1u) == 1u)) {
        r += 1u;  // may carry into the exponent: still correct, up to Inf
    }
    return sign | r;
}

fn sample_value(s: u32) -> f32 {
    let px = s / CH;
    let c = src[px];
    switch s - px * CH {
        case 0u: { return c.x; }
        case 1u: { return c.y; }
        case 2u: { return c.z; }
        default: { return c.w; }
    }
}

fn pack_word(j: u32, n: u32) -> u32 {
    // the j-th 32-bit word of the packed samples (n samples in all)
    switch KIND {
        case 0u: {
            var w = 0u;
            for (var k = 0u; k < 4u; k++) {
                let s = j * 4u + k;
                if (s < n) {
                    w |= quantize(sample_value(s), 255.0) << (8u * k);
                }
            }
            return w;
        }
        case 1u, 2u: {
            var w = 0u;
            for (var k = 0u; k < 2u; k++) {
                let s = j * 2u + k;
                if (s < n) {
                    let v = sample_value(s);
                    let bits = select(half_bits(v), quantize(v, 65535.0), KIND == 1u);
                    w |= bits << (16u * k);
                }
            }
            return w;
        }
        default: {
            if (j < n) {
                return bitcast<u32>(sample_value(j));
            }
            return 0u;
        }
    }
}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let k = p.y * dims.out_w + p.x;
    let n = dims.in_w * dims.in_h * CH;
    packed[k] = vec4<u32>(pack_word(4u * k, n), pack_word(4u * k + 1u, n),
                          pack_word(4u * k + 2u, n), pack_word(4u * k + 3u, n));
}

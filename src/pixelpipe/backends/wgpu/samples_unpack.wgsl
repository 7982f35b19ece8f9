// Sample conversion between the host's sample types and RGBA float32.
//
// The host prepends `const CH: u32` (channels of the samples: 1, 3 or 4) and
// `const KIND: u32` (0 uint8, 1 uint16, 2 float16, 3 float32). Samples travel
// as raw little-endian words (array<u32>), so no float load or store can
// touch their bits. Rules (pixelpipe.samples): integers map to v / (2^b - 1);
// back: round-half-even(clamp(v, 0, 1) * (2^b - 1)), NaN -> 0; float16 by
// IEEE round-to-nearest-even, overflow -> Inf, NaN kept; grey -> (g, g, g, 1),
// RGB -> (r, g, b, 1); RGBA -> grey keeps channel 0.

// samples (raw words) -> RGBA float32, one invocation per pixel of the image
// (dims.out_w x dims.out_h).
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> raw: array<u32>;

fn sample_bits(words_per: u32, s: u32) -> u32 {
    // the `s`-th sample's bits, `words_per` samples per 32-bit word
    let w = raw[s / words_per];
    let width = 32u / words_per;
    if (width == 32u) {
        return w;
    }
    return (w >> ((s % words_per) * width)) & ((1u << width) - 1u);
}

fn unpack_sample(s: u32) -> f32 {
    switch KIND {
        case 0u: {
            return f32(sample_bits(4u, s)) / 255.0;
        }
        case 1u: {
            return f32(sample_bits(2u, s)) / 65535.0;
        }
        case 2u: {
            return unpack2x16float(sample_bits(2u, s)).x;
        }
        default: {
            return bitcast<f32>(sample_bits(1u, s));
        }
    }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = pixel_coord(wid, lid);
    if (p.x >= dims.out_w || p.y >= dims.out_h) {
        return;
    }
    let i = p.y * dims.out_w + p.x;
    let s = i * CH;
    var c = vec4<f32>(0.0, 0.0, 0.0, 1.0);
    if (CH == 1u) {
        let g = unpack_sample(s);
        c = vec4<f32>(g, g, g, 1.0);
    } else {
        c.x = unpack_sample(s);
        c.y = unpack_sample(s + 1u);
        c.z = unpack_sample(s + 2u);
        if (CH == 4u) {
            c.w = unpack_sample(s + 3u);
        }
    }
    dst[i] = c;
}

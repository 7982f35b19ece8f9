// cdl: ASC CDL v1.2 slope / offset / power / saturation on RGB; alpha untouched.
// See cdl.py for the math. Parameters (float32, computed on the host):
// params[base + 0].xyz = slope   (inverse: 1 / max(slope, 0.01)); .w = 1 "asc" (clamp), 0 "no_clamp"
// params[base + 1].xyz = offset  (inverse: -offset);              .w = 1 inverse, 0 forward
// params[base + 2].xyz = power   (inverse: 1 / max(power, 0.01))
// params[base + 3].x   = saturation (inverse: 1 / max(saturation, 0.01))
//
// NaN is detected from the bit pattern so that no compiler assumption about
// NaN comparisons can change the result; pow() is only ever called on a
// base >= 0 (WGSL leaves pow of a negative base undefined).

fn cdl_is_nan(v: vec3<f32>) -> vec3<bool> {
    return (bitcast<vec3<u32>>(v) & vec3<u32>(0x7fffffffu)) > vec3<u32>(0x7f800000u);
}

// clamp to [0, 1]; NaN -> 0 (+Inf -> 1, -Inf -> 0 by the clamp itself)
fn cdl_clamp01(v: vec3<f32>) -> vec3<f32> {
    return select(clamp(v, vec3<f32>(0.0), vec3<f32>(1.0)), vec3<f32>(0.0), cdl_is_nan(v));
}

// "asc": clamp then pow; "no_clamp": negative values pass through, NaN -> 0
fn cdl_power(v: vec3<f32>, p: vec3<f32>, clamp_on: bool) -> vec3<f32> {
    if (clamp_on) {
        return pow(cdl_clamp01(v), p);
    }
    let nan = cdl_is_nan(v);
    let safe = select(max(v, vec3<f32>(0.0)), vec3<f32>(0.0), nan);
    let powered = pow(safe, p);
    return select(select(powered, v, v < vec3<f32>(0.0)), vec3<f32>(0.0), nan);
}

// luma + s * (v - luma), Rec.709 luma weights
fn cdl_saturate(v: vec3<f32>, s: f32) -> vec3<f32> {
    let luma = (v.r * 0.2126 + v.g * 0.7152) + v.b * 0.0722;
    return luma + s * (v - luma);
}

fn cdl(c: vec4<f32>, base: u32) -> vec4<f32> {
    let slope = params[base].xyz;
    let clamp_on = params[base].w > 0.5;
    let offset = params[base + 1u].xyz;
    let inverse = params[base + 1u].w > 0.5;
    let power = params[base + 2u].xyz;
    let sat = params[base + 3u].x;
    var v = c.rgb;
    if (!inverse) {
        v = cdl_power(v * slope + offset, power, clamp_on);
        v = cdl_saturate(v, sat);
        if (clamp_on) {
            v = cdl_clamp01(v);
        }
    } else {
        if (clamp_on) {
            v = cdl_clamp01(v);
        }
        v = cdl_power(cdl_saturate(v, sat), power, clamp_on);
        v = (v + offset) * slope;
        if (clamp_on) {
            v = cdl_clamp01(v);
        }
    }
    return vec4<f32>(v, c.a);
}

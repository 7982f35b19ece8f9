// transfer: transfer functions, linear <-> encoded, on R, G, B; alpha untouched.
// params[base] = (function id, direction (0 encode, 1 decode), gamma, 1/gamma)
// ids: 0 srgb, 1 rec709, 2 gamma, 3 acescct, 4 acescc, 5 logc3, 6 slog3, 7 cineon
// NaN in -> NaN out. Formulas and sources: transfer.py.

const TRANSFER_LOG10_2: f32 = 0.30102999566398120;
const TRANSFER_LOG2_10: f32 = 3.32192809488736235;

fn transfer_log10(x: f32) -> f32 {
    return log2(x) * TRANSFER_LOG10_2;
}

fn transfer_exp10(y: f32) -> f32 {
    return exp2(y * TRANSFER_LOG2_10);
}

fn transfer_encode(x: f32, fid: u32, g: vec2<f32>) -> f32 {
    switch fid {
        case 0u: {  // sRGB
            if (x <= 0.0031308) { return 12.92 * x; }
            return 1.055 * pow(x, 1.0 / 2.4) - 0.055;
        }
        case 1u: {  // BT.709 OETF
            if (x < 0.018) { return 4.5 * x; }
            return 1.099 * pow(x, 0.45) - 0.099;
        }
        case 2u: {  // pure power, mirrored about 0
            return sign(x) * pow(abs(x), g.y);
        }
        case 3u: {  // ACEScct
            if (x <= 0.0078125) { return 10.5402377416545 * x + 0.0729055341958355; }
            return (log2(x) + 9.72) / 17.52;
        }
        case 4u: {  // ACEScc
            if (x <= 0.0) { return (-16.0 + 9.72) / 17.52; }
            if (x < 3.0517578125e-05) { return (log2(1.52587890625e-05 + 0.5 * x) + 9.72) / 17.52; }
            return (log2(x) + 9.72) / 17.52;
        }
        case 5u: {  // ARRI LogC3 EI 800
            if (x > 0.010591) { return 0.247190 * transfer_log10(5.555556 * x + 0.052272) + 0.385537; }
            return 5.367655 * x + 0.092809;
        }
        case 6u: {  // Sony S-Log3
            if (x >= 0.01125) { return (420.0 + transfer_log10((x + 0.01) / 0.19) * 261.5) / 1023.0; }
            return (x * (171.2102946929 - 95.0) / 0.01125 + 95.0) / 1023.0;
        }
        default: {  // Cineon, clamped at code value 0
            let black = 0.0107977516232771;
            let arg = x * (1.0 - black) + black;
            if (arg <= 0.005207948328595465) { return 0.0; }
            return (685.0 + 300.0 * transfer_log10(arg)) / 1023.0;
        }
    }
}

fn transfer_decode(v: f32, fid: u32, g: vec2<f32>) -> f32 {
    switch fid {
        case 0u: {
            if (v <= 0.04045) { return v / 12.92; }
            return pow((v + 0.055) / 1.055, 2.4);
        }
        case 1u: {
            if (v < 0.08124794403514046) { return v / 4.5; }
            return pow((v + 0.099) / 1.099, 1.0 / 0.45);
        }
        case 2u: {
            return sign(v) * pow(abs(v), g.x);
        }
        case 3u: {
            if (v <= 0.155251141552511) { return (v - 0.0729055341958355) / 10.5402377416545; }
            return exp2(17.52 * v - 9.72);
        }
        case 4u: {
            if (v < (9.72 - 15.0) / 17.52) { return (exp2(17.52 * v - 9.72) - 1.52587890625e-05) * 2.0; }
            if (v < (15.99929538702341 + 9.72) / 17.52) { return exp2(17.52 * v - 9.72); }
            return 65504.0;
        }
        case 5u: {
            if (v > 5.367655 * 0.010591 + 0.092809) {
                return (transfer_exp10((v - 0.385537) / 0.247190) - 0.052272) / 5.555556;
            }
            return (v - 0.092809) / 5.367655;
        }
        case 6u: {
            if (v >= 171.2102946929 / 1023.0) { return transfer_exp10((v * 1023.0 - 420.0) / 261.5) * 0.19 - 0.01; }
            return (v * 1023.0 - 95.0) * 0.01125 / (171.2102946929 - 95.0);
        }
        default: {
            let black = 0.0107977516232771;
            return (transfer_exp10((1023.0 * v - 685.0) / 300.0) - black) / (1.0 - black);
        }
    }
}

fn transfer_channel(v: f32, fid: u32, dir: f32, g: vec2<f32>) -> f32 {
    var y: f32;
    if (dir < 0.5) {
        y = transfer_encode(v, fid, g);
    } else {
        y = transfer_decode(v, fid, g);
    }
    let is_nan = (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
    return select(y, v, is_nan);
}

fn transfer(c: vec4<f32>, base: u32) -> vec4<f32> {
    let p = params[base];
    let fid = u32(p.x);
    let g = p.zw;  // (gamma, 1/gamma)
    return vec4<f32>(
        transfer_channel(c.r, fid, p.y, g),
        transfer_channel(c.g, fid, p.y, g),
        transfer_channel(c.b, fid, p.y, g),
        c.a);
}

// Parameters shared by the two kernels of the exact GPU median of |w1|
// (denoise_sigma_band.wgsl, denoise_sigma_hist.wgsl; see denoise.py,
// `gpu_noise_sigma`, which fills them).

struct Cfg {
    w: u32,
    h: u32,
    channel: u32,
    shift: u32,
    prefix: u32,
    mask: u32,
    _pad0: u32,
    _pad1: u32,
    conv0: vec4<f32>,
    conv1: vec4<f32>,
}

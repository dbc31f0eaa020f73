// Shared by every rung of conv2d (`#include conv2d_common` in shaders/conv2d*.wgsl): the uniform, the
// layer's geometry compiled in from defines (one pipeline per layer shape; only the batch size travels
// at run time) and the slope of an activation fused into backward-data's store. Each rung declares the
// buffers it binds itself, since their lengths (LEN_*) are filled from the rung file's own text.

struct Dims {
  batch: u32,       // samples in this batch
  splitDepth: u32,  // rungs that split the batch's sums: output positions (filter) or images (bias) per split
  splits: u32,      // how many splits, whose partial sums a second pass adds
}

const CIN: u32 = ${CIN}u;
const IN_H: u32 = ${IN_H}u;
const IN_W: u32 = ${IN_W}u;
const COUT: u32 = ${COUT}u;
const KSIZE: u32 = ${KSIZE}u;
const STRIDE: u32 = ${STRIDE}u;
const PAD: u32 = ${PAD}u;
const OUT_H: u32 = ${OUT_H}u;
const OUT_W: u32 = ${OUT_W}u;
const KK: u32 = KSIZE * KSIZE;
const PATCH: u32 = CIN * KK;  // j = (ci, kh, kw): one row of weight
const IN_HW: u32 = IN_H * IN_W;
const OUT_HW: u32 = OUT_H * OUT_W;

// Flat tap index t = (channel, kh, kw), kw fastest, split into (channel, kh, kw).
fn splitTap(t: u32) -> vec3u {
  return vec3u(t / KK, (t % KK) / KSIZE, t % KSIZE);
}

// f' of the activation that produced x, at x[i], when its backward is fused into backward-data's store
// (ACTIVATED, shaders/activate.wgsl); 1 otherwise, and x is not read.
fn inputSlope(i: u32) -> f32 {
#if ${ACTIVATED}
  return slope(x[i]);
#else
  return 1.0;
#endif
}

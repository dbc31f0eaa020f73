// conv2d, rung 0: the textbook direct convolution. One invocation computes one element of its output as
// the plain sum that defines it, for any geometry (channels, size, square kernel, stride, zero padding).
// Read this first: each later rung (shaders/conv2d_<n>_<trick>.wgsl) adds one trick to it, and
// docs/perf/conv2d.md says what each one buys; src/layers/conv2d-policy.ts says which rung runs where.
//
//   x, dx   [batch, CIN, IN_H, IN_W]      weight, dWeight [COUT, CIN, KSIZE, KSIZE]    bias, dBias [COUT]
//   y, dy   [batch, COUT, OUT_H, OUT_W]   NCHW; S = STRIDE, P = PAD
//
//   forward          y[n, co, oh, ow]  = f(Σ_{ci, kh, kw} weight[co, ci, kh, kw] · x[n, ci, oh·S − P + kh, ow·S − P + kw] + bias[co])
//   backward-data    dx[n, ci, ih, iw] = f'(x) · Σ weight[co, ci, kh, kw] · dy[n, co, oh, ow]
//                    over the (co, kh, kw) for which some output has oh·S − P + kh = ih and ow·S − P + kw = iw
//   backward-filter  dWeight[co, ci, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·S − P + kh, ow·S − P + kw]
//   bias gradient    dBias[co] = Σ_{n, oh, ow} dy[n, co, oh, ow]
//
// Taps that land in the padding read 0. Backward-data GATHERS over the outputs that read each input
// rather than scattering each output into dx, so every dx is written once and no atomics are needed.
// f is the activation fused into forward's store and f' the slope of the one that produced x, fused into
// backward-data's (shaders/activate.wgsl, "Fusion" in src/graph/sequential.ts); both are the identity
// when none is fused.

#include activate
#include conv2d_common

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(2) var<storage, read> weight: array<f32, ${LEN_weight}u>;
@group(0) @binding(3) var<storage, read> bias: array<f32, ${LEN_bias}u>;
@group(0) @binding(4) var<storage, read_write> y: array<f32, ${LEN_y}u>;
@group(0) @binding(5) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;
@group(0) @binding(7) var<storage, read_write> dWeight: array<f32, ${LEN_dWeight}u>;
@group(0) @binding(8) var<storage, read_write> dBias: array<f32, ${LEN_dBias}u>;

const WG: u32 = 64u;  // invocations per workgroup

// This invocation's element: the workgroups of a long dispatch fold into y past 65,535 (grid1d in
// src/gpu/kernel.ts).
fn element(id: vec3u, groups: vec3u) -> u32 {
  return id.y * groups.x * WG + id.x;
}

fn xElement(n: u32, ci: u32, ih: u32, iw: u32) -> f32 {
  return x[((n * CIN + ci) * IN_H + ih) * IN_W + iw];
}

fn weightElement(co: u32, ci: u32, kh: u32, kw: u32) -> f32 {
  return weight[((co * CIN + ci) * KSIZE + kh) * KSIZE + kw];
}

fn dyElement(n: u32, co: u32, oh: u32, ow: u32) -> f32 {
  return dy[((n * COUT + co) * OUT_H + oh) * OUT_W + ow];
}

// The input coordinate o·S − P + k that tap k of output coordinate o reads; negative in the padding.
fn inputCoord(o: u32, k: u32) -> i32 {
  return i32(o * STRIDE + k) - i32(PAD);
}

// x under tap (kh, kw) of output (oh, ow): 0 where the tap lies in the padding.
fn xUnderTap(n: u32, ci: u32, oh: u32, ow: u32, kh: u32, kw: u32) -> f32 {
  let ih = inputCoord(oh, kh);
  let iw = inputCoord(ow, kw);
  if (ih < 0 || iw < 0 || ih >= i32(IN_H) || iw >= i32(IN_W)) { return 0.0; }
  return xElement(n, ci, u32(ih), u32(iw));
}

// The output coordinate o whose tap k reads input coordinate i (o·S − P + k = i), or −1 where there is
// none: i + P − k is negative, not a multiple of S, or past the last output `size`.
fn outputCoord(i: u32, k: u32, size: u32) -> i32 {
  let oS = i32(i + PAD) - i32(k);
  if (oS < 0 || oS % i32(STRIDE) != 0 || oS / i32(STRIDE) >= i32(size)) { return -1; }
  return oS / i32(STRIDE);
}

// One invocation per y[n, co, oh, ow].
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(id, groups);
  if (i >= dims.batch * COUT * OUT_HW) { return; }
  let ow = i % OUT_W;
  let oh = (i / OUT_W) % OUT_H;
  let co = (i / OUT_HW) % COUT;
  let n = i / (COUT * OUT_HW);
  var sum = 0.0;
  for (var ci = 0u; ci < CIN; ci++) {
    for (var kh = 0u; kh < KSIZE; kh++) {
      for (var kw = 0u; kw < KSIZE; kw++) {
        sum += weightElement(co, ci, kh, kw) * xUnderTap(n, ci, oh, ow, kh, kw);
      }
    }
  }
  y[i] = activate(sum + bias[co]);
}

// One invocation per dx[n, ci, ih, iw].
@compute @workgroup_size(WG)
fn backward_data(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(id, groups);
  if (i >= dims.batch * CIN * IN_HW) { return; }
  let iw = i % IN_W;
  let ih = (i / IN_W) % IN_H;
  let ci = (i / IN_HW) % CIN;
  let n = i / (CIN * IN_HW);
  var sum = 0.0;
  for (var co = 0u; co < COUT; co++) {
    for (var kh = 0u; kh < KSIZE; kh++) {
      for (var kw = 0u; kw < KSIZE; kw++) {
        let oh = outputCoord(ih, kh, OUT_H);
        let ow = outputCoord(iw, kw, OUT_W);
        if (oh < 0 || ow < 0) { continue; }
        sum += weightElement(co, ci, kh, kw) * dyElement(n, co, u32(oh), u32(ow));
      }
    }
  }
  dx[i] = sum * inputSlope(i);
}

// One invocation per dWeight[co, ci, kh, kw], summing over every output position of the batch.
@compute @workgroup_size(WG)
fn backward_filter(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = element(id, groups);
  if (i >= COUT * PATCH) { return; }
  let kw = i % KSIZE;
  let kh = (i / KSIZE) % KSIZE;
  let ci = (i / KK) % CIN;
  let co = i / PATCH;
  var sum = 0.0;
  for (var n = 0u; n < dims.batch; n++) {
    for (var oh = 0u; oh < OUT_H; oh++) {
      for (var ow = 0u; ow < OUT_W; ow++) {
        sum += dyElement(n, co, oh, ow) * xUnderTap(n, ci, oh, ow, kh, kw);
      }
    }
  }
  dWeight[i] = sum;
}

// One invocation per dBias[co].
@compute @workgroup_size(WG)
fn bias_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let co = element(id, groups);
  if (co >= COUT) { return; }
  var sum = 0.0;
  for (var n = 0u; n < dims.batch; n++) {
    for (var oh = 0u; oh < OUT_H; oh++) {
      for (var ow = 0u; ow < OUT_W; ow++) {
        sum += dyElement(n, co, oh, ow);
      }
    }
  }
  dBias[co] = sum;
}

// conv2d, rung 4: forward and backward-data as GEMMs over packed operands on a CPU adapter. Rung 3 gathers
// its operands with per-column index arithmetic (and bounds checks and selects in backward-data) and reuses
// each loaded value for only 8 channels. Here every step of the sum reads at (row start + offsets shared by
// all rows), with no masks and no selects, and an invocation owns 32 positions × 16 channels (WIDE) or 64
// positions × 8 channels in 32 mat4 accumulators (dense's wide CPU block, dense_4_wide.wgsl), so each loaded
// value serves 16 or 8 channels and each weight 32 or 64 positions:
//
//   forward        y[n, co, oh, ow]  = f(Σ_j x[n, origin(oh, ow) + offset(j)] · weightPacked[co, j] + bias[co]),  j = (ci, kh, kw)
//   backward-data  dx[n, ci, ih, iw] = Σ_{kh, kw, co} dyPacked[n, ih + kh, iw + kw, co] · weightPacked[ci, kh, kw, co]
//
// Forward takes 4 taps j a step straight from x (an im2col never stored; without padding, so nothing is masked):
// a pass packing x would cost SwiftShader about as much as the product saves. Backward-data at stride 1 is a
// forward correlation of dy bordered by K − 1 − P zeros with the weights flipped and their channels swapped,
// so a pass first packs dy into a zero-bordered channels-last copy and its steps load aligned vec4s of 4 channels.
// Both pack the weights into the order the sum walks them (a few thousand floats).
// Why a CPU adapter only: SwiftShader loads lane by lane at the cost of several multiply-adds and a spilled
// accumulator costs a CPU little; a GPU would spill the 512 accumulators. docs/perf/conv2d.md, rung 4.
//
//   x, dx [rows, CIN, IN_H, IN_W]      dy, y [rows, COUT, OUT_H, OUT_W]      weight [COUT, CIN, K, K]
//   dyPacked      [rows, OUT_H + 2Q, OUT_W + 2Q, C4] vec4 (output channels 4c…4c+3, 0 past COUT and in the border)
//   weightPacked  [NPAD, STEPS] vec4: forward [co, j], 4 taps a vec4 (0 past PATCH);
//                 backward-data [ci, kh, kw, c4] (0 past COUT), both 0 past CHANNELS
//   y4, dx4, x4   y, dx and x as vec4s, bound instead of them where a sample's positions are whole vec4s (ALIGNED)
//   the GEMM's rows are CHANNELS (forward's outputs, backward-data's inputs), its columns positions (n, h, w) of y or dx

#include activate
#include conv2d_common

const FORWARD: bool = ${FORWARD};  // forward, else backward-data
const WIDE: bool = ${WIDE};        // 16 channels × 32 positions an invocation, else 8 × 64
const Q: u32 = ${BORDER}u;         // backward-data: dy's zero border, the full correlation's padding K − 1 − P

const CHANNELS: u32 = select(CIN, COUT, FORWARD);  // rows of the GEMM
const POS_H: u32 = select(IN_H, OUT_H, FORWARD);   // its columns: positions (n, h, w)
const POS_W: u32 = select(IN_W, OUT_W, FORWARD);
const POS_HW: u32 = POS_H * POS_W;
const HP: u32 = OUT_H + 2u * Q;
const WP: u32 = OUT_W + 2u * Q;
const C4: u32 = (COUT + 3u) / 4u;                  // backward-data: vec4s of output channels per packed pixel
const STEPS: u32 = select(KK * C4, (PATCH + 3u) / 4u, FORWARD);  // steps of the sum, one vec4 each
const NB: u32 = select(8u, 16u, WIDE);             // channels per invocation
const RB: u32 = 512u / NB;                         // positions per invocation
const NPAD: u32 = (CHANNELS + NB - 1u) / NB * NB;
const GROUP: u32 = 16u;                            // invocations per workgroup of the product
const PACK_GROUP: u32 = 64u;                       // invocations per workgroup of the packs

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(2) var<storage, read> weight: array<f32, ${LEN_weight}u>;
@group(0) @binding(3) var<storage, read_write> dyPacked: array<vec4f, (${LEN_dyPacked}u + 3u) / 4u>;
@group(0) @binding(4) var<storage, read_write> weightPacked: array<vec4f, (${LEN_weightPacked}u + 3u) / 4u>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;
@group(0) @binding(6) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(7) var<storage, read> bias: array<f32, ${LEN_bias}u>;
@group(0) @binding(8) var<storage, read_write> y: array<f32, ${LEN_y}u>;
// The same tensors a vec4 at a time, bound instead of y, dx and x where a sample's positions are whole vec4s (ALIGNED).
@group(0) @binding(9) var<storage, read_write> y4: array<vec4f, (${LEN_y4}u + 3u) / 4u>;
@group(0) @binding(10) var<storage, read_write> dx4: array<vec4f, (${LEN_dx4}u + 3u) / 4u>;
@group(0) @binding(11) var<storage, read> x4: array<vec4f, (${LEN_x4}u + 3u) / 4u>;

fn flatIndex(group: vec3u, groups: vec3u, local: u32, size: u32) -> u32 {
  return (group.x + group.y * groups.x) * size + local;
}

// ---- the packs ------------------------------------------------------------------------------------

// dyPacked[n, a, b, c4] = dy[n, 4·c4 + c, a − Q, b − Q], 0 outside dy: one invocation per pixel, masked by
// selects rather than branches.
@compute @workgroup_size(PACK_GROUP)
fn pack_dy(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) local: u32) {
  let pixel = flatIndex(group, groups, local, PACK_GROUP);
  if (pixel >= dims.batch * HP * WP) { return; }
  let b = pixel % WP - Q;            // wraps below 0
  let a = (pixel / WP) % HP - Q;
  let inside = a < OUT_H && b < OUT_W;
  let first = select(0u, (pixel / (WP * HP) * COUT * OUT_H + a) * OUT_W + b, inside);  // channel 0's element
  for (var c4 = 0u; c4 < C4; c4++) {
    let co = 4u * c4 + vec4u(0u, 1u, 2u, 3u);
    let at = first + min(co, vec4u(COUT - 1u)) * OUT_HW;
    dyPacked[pixel * C4 + c4] = select(vec4f(), vec4f(dy[at.x], dy[at.y], dy[at.z], dy[at.w]), vec4<bool>(inside) & (co < vec4u(COUT)));
  }
}

// weightPacked[row, s]: the weights step s of the sum multiplies into channel `row`, 0 past CHANNELS.
//   forward: weight[row, j] of taps j = 4·s + c (0 past PATCH)
//   backward-data: weight[4·c4 + c, row, K−1−kh, K−1−kw] at step s = (kh, kw, c4): flipped, channels swapped
@compute @workgroup_size(PACK_GROUP)
fn pack_weight(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) local: u32) {
  let v = flatIndex(group, groups, local, PACK_GROUP);
  if (v >= NPAD * STEPS) { return; }
  let row = v / STEPS;
  let s = v % STEPS;
  var value = vec4f();
  for (var c = 0u; c < 4u; c++) {
#if ${FORWARD}
    let j = 4u * s + c;
    if (row < CHANNELS && j < PATCH) { value[c] = weight[row * PATCH + j]; }
#else
    let co = 4u * (s % C4) + c;
    if (row < CHANNELS && co < COUT) { value[c] = weight[(co * CIN + row) * KK + KK - 1u - s / C4]; }
#endif
  }
  weightPacked[v] = value;
}

// ---- the product ----------------------------------------------------------------------------------

// Where positions m … m+3 start (clamped to the last position; its sums are not stored): forward, where their
// receptive fields start in x; backward-data, in dyPacked.
fn rowStarts4(m: u32) -> vec4u {
  let r = min(vec4u(m) + vec4u(0u, 1u, 2u, 3u), vec4u(dims.batch * POS_HW - 1u));
  let p = r % POS_HW;
#if ${FORWARD}
  return r / POS_HW * CIN * IN_HW + p / POS_W * STRIDE * IN_W + p % POS_W * STRIDE;
#else
  return ((r / POS_HW * HP + p / POS_W) * WP + p % POS_W) * C4;
#endif
}

// Where step s reads past each position's row start, the same for every position: forward, the 4 taps
// j = 4s … 4s+3 (one past PATCH reads the position's first value; its weight is 0); backward-data one vec4 (.x).
fn stepOffsets(s: u32) -> vec4u {
#if ${FORWARD}
  let j = 4u * s + vec4u(0u, 1u, 2u, 3u);
  return select(vec4u(0u), j / KK * IN_HW + (j % KK) / KSIZE * IN_W + j % KSIZE, j < vec4u(PATCH));
#else
  let tap = s / C4;
  return vec4u(((tap / KSIZE) * WP + tap % KSIZE) * C4 + s % C4);
#endif
}

// x at 4 taps of one position.
fn taps4(at: vec4u) -> vec4f {
  return vec4f(x[at.x], x[at.y], x[at.z], x[at.w]);
}

// 4 positions' vec4 of one step: column j = position j.
fn positions4(starts: vec4u, offsets: vec4u) -> mat4x4f {
#if ${FORWARD}
  return mat4x4f(taps4(starts.x + offsets), taps4(starts.y + offsets), taps4(starts.z + offsets), taps4(starts.w + offsets));
#else
  let at = starts + offsets.x;
  return mat4x4f(dyPacked[at.x], dyPacked[at.y], dyPacked[at.z], dyPacked[at.w]);
#endif
}

// Channels ch … ch+3 of one step, transposed: column c = component c of the 4 channels' vec4s.
fn channels4(ch: u32, s: u32) -> mat4x4f {
  return transpose(mat4x4f(weightPacked[ch * STEPS + s], weightPacked[(ch + 1u) * STEPS + s],
                           weightPacked[(ch + 2u) * STEPS + s], weightPacked[(ch + 3u) * STEPS + s]));
}

// Channels ch…ch+3 of positions m … m+3 (columns of `acc`, components the channels): forward stores
// y = f(acc + bias), backward-data dx = acc · f'(x). Where a sample's positions come in whole vec4s (ALIGNED),
// m … m+3 lie in one sample side by side, so each channel's 4 values are one aligned vec4 store: a quarter of
// the stores and one index a block, where scalar stores each work out their own.
fn store4(m: u32, ch: u32, acc: mat4x4f) {
#if ${ALIGNED}
  if (m >= dims.batch * POS_HW) { return; }
  let at = ((m / POS_HW) * CHANNELS * POS_HW + m % POS_HW) / 4u;  // channel 0's vec4
  let rows = transpose(acc);                                      // row c: channel ch + c at the 4 positions
  storeChannel(at, ch, rows[0]); storeChannel(at, ch + 1u, rows[1]); storeChannel(at, ch + 2u, rows[2]); storeChannel(at, ch + 3u, rows[3]);
#else
  for (var j = 0u; j < 4u; j++) {
    let r = m + j;
    if (r >= dims.batch * POS_HW) { return; }
    let at = (r / POS_HW) * CHANNELS * POS_HW + r % POS_HW;
    for (var c = 0u; c < 4u; c++) {
      if (ch + c < CHANNELS) {
        let i = at + (ch + c) * POS_HW;
#if ${FORWARD}
        y[i] = activate(acc[j][c] + bias[ch + c]);
#else
        dx[i] = acc[j][c] * inputSlope(i);
#endif
      }
    }
  }
#endif
}

// One channel's 4 positions as one vec4 (ALIGNED), `at` the vec4 of channel 0 at those positions.
fn storeChannel(at: u32, channel: u32, sums: vec4f) {
  if (channel >= CHANNELS) { return; }
  let i = at + channel * (POS_HW / 4u);
#if ${FORWARD}
  let v = sums + bias[channel];
  y4[i] = vec4f(activate(v.x), activate(v.y), activate(v.z), activate(v.w));
#elif ${ACTIVATED}
  let input = x4[i];
  dx4[i] = sums * vec4f(slope(input.x), slope(input.y), slope(input.z), slope(input.w));
#else
  dx4[i] = sums;
#endif
}

// Workgroup z: a block of NB channels; x·y: invocations of RB positions each. Accumulators a0…, a1… hold
// channels ch…ch+7 of positions m…m+31; a2…, a3… the next 8 channels of the same positions (WIDE), or the
// same 8 channels of the next 32 positions.
fn product(group: vec3u, groups: vec3u, local: u32) {
  let m = flatIndex(group, groups, local, GROUP) * RB;
  let ch = group.z * NB;
  let m2 = m + select(32u, 0u, WIDE);
  let ch2 = ch + select(0u, 8u, WIDE);
  let r0 = rowStarts4(m); let r1 = rowStarts4(m + 4u); let r2 = rowStarts4(m + 8u); let r3 = rowStarts4(m + 12u);
  let r4 = rowStarts4(m + 16u); let r5 = rowStarts4(m + 20u); let r6 = rowStarts4(m + 24u); let r7 = rowStarts4(m + 28u);
  let r8 = rowStarts4(m2); let r9 = rowStarts4(m2 + 4u); let r10 = rowStarts4(m2 + 8u); let r11 = rowStarts4(m2 + 12u);    // unused when WIDE
  let r12 = rowStarts4(m2 + 16u); let r13 = rowStarts4(m2 + 20u); let r14 = rowStarts4(m2 + 24u); let r15 = rowStarts4(m2 + 28u);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f(); var a04 = mat4x4f(); var a05 = mat4x4f(); var a06 = mat4x4f(); var a07 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f(); var a14 = mat4x4f(); var a15 = mat4x4f(); var a16 = mat4x4f(); var a17 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f(); var a24 = mat4x4f(); var a25 = mat4x4f(); var a26 = mat4x4f(); var a27 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f(); var a34 = mat4x4f(); var a35 = mat4x4f(); var a36 = mat4x4f(); var a37 = mat4x4f();
  for (var s = 0u; s < STEPS; s++) {
    let offset = stepOffsets(s);
    let w0 = channels4(ch, s); let w1 = channels4(ch + 4u, s);
    let d0 = positions4(r0, offset); let d1 = positions4(r1, offset); let d2 = positions4(r2, offset); let d3 = positions4(r3, offset);
    let d4 = positions4(r4, offset); let d5 = positions4(r5, offset); let d6 = positions4(r6, offset); let d7 = positions4(r7, offset);
#if ${WIDE}
    let w2 = channels4(ch2, s); let w3 = channels4(ch2 + 4u, s);
    let e0 = d0; let e1 = d1; let e2 = d2; let e3 = d3; let e4 = d4; let e5 = d5; let e6 = d6; let e7 = d7;
#else
    let w2 = w0; let w3 = w1;
    let e0 = positions4(r8, offset); let e1 = positions4(r9, offset); let e2 = positions4(r10, offset); let e3 = positions4(r11, offset);
    let e4 = positions4(r12, offset); let e5 = positions4(r13, offset); let e6 = positions4(r14, offset); let e7 = positions4(r15, offset);
#endif
    a00 += w0 * d0; a01 += w0 * d1; a02 += w0 * d2; a03 += w0 * d3; a04 += w0 * d4; a05 += w0 * d5; a06 += w0 * d6; a07 += w0 * d7;
    a10 += w1 * d0; a11 += w1 * d1; a12 += w1 * d2; a13 += w1 * d3; a14 += w1 * d4; a15 += w1 * d5; a16 += w1 * d6; a17 += w1 * d7;
    a20 += w2 * e0; a21 += w2 * e1; a22 += w2 * e2; a23 += w2 * e3; a24 += w2 * e4; a25 += w2 * e5; a26 += w2 * e6; a27 += w2 * e7;
    a30 += w3 * e0; a31 += w3 * e1; a32 += w3 * e2; a33 += w3 * e3; a34 += w3 * e4; a35 += w3 * e5; a36 += w3 * e6; a37 += w3 * e7;
  }
  store4(m, ch, a00); store4(m + 4u, ch, a01); store4(m + 8u, ch, a02); store4(m + 12u, ch, a03);
  store4(m + 16u, ch, a04); store4(m + 20u, ch, a05); store4(m + 24u, ch, a06); store4(m + 28u, ch, a07);
  store4(m, ch + 4u, a10); store4(m + 4u, ch + 4u, a11); store4(m + 8u, ch + 4u, a12); store4(m + 12u, ch + 4u, a13);
  store4(m + 16u, ch + 4u, a14); store4(m + 20u, ch + 4u, a15); store4(m + 24u, ch + 4u, a16); store4(m + 28u, ch + 4u, a17);
  store4(m2, ch2, a20); store4(m2 + 4u, ch2, a21); store4(m2 + 8u, ch2, a22); store4(m2 + 12u, ch2, a23);
  store4(m2 + 16u, ch2, a24); store4(m2 + 20u, ch2, a25); store4(m2 + 24u, ch2, a26); store4(m2 + 28u, ch2, a27);
  store4(m2, ch2 + 4u, a30); store4(m2 + 4u, ch2 + 4u, a31); store4(m2 + 8u, ch2 + 4u, a32); store4(m2 + 12u, ch2 + 4u, a33);
  store4(m2 + 16u, ch2 + 4u, a34); store4(m2 + 20u, ch2 + 4u, a35); store4(m2 + 24u, ch2 + 4u, a36); store4(m2 + 28u, ch2 + 4u, a37);
}

// The two entry points run the same GEMM (FORWARD picks the operands); their names label the dispatches.
@compute @workgroup_size(GROUP)
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) local: u32) {
  product(group, groups, local);
}

@compute @workgroup_size(GROUP)
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) local: u32) {
  product(group, groups, local);
}

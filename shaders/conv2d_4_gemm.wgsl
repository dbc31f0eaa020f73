// conv2d, rung 4: backward-data as a packed GEMM on a CPU adapter. Rung 3 gathers dy under each input
// position with a bounds check and a select per column and step, and reuses each loaded dy value for only
// 8 input channels. Here two cheap passes first pack dy into a zero-bordered channels-last copy and the
// weights into the order the sum walks them, so backward-data becomes a plain forward convolution of the
// packed dy (stride 1) with the flipped, transposed weights:
//
//   dx[n, ci, ih, iw] = Σ_{kh, kw, co} dyPacked[n, ih + kh, iw + kw, co] · weightPacked[ci, kh, kw, co]
//
// which is a GEMM whose every step loads aligned vec4s at (row start + one offset shared by all rows): no
// masks, no selects, and an invocation owns 32 input positions × 16 input channels (32 mat4 accumulators,
// dense's wide CPU block), so each loaded dy value serves 16 channels and each weight 32 positions.
// Why a CPU adapter only: SwiftShader loads lane by lane at the cost of several multiply-adds and a
// spilled accumulator costs a CPU little; a GPU would spill the 512 accumulators. Stride 1 only (a stride
// would need dy dilated). docs/perf/conv2d.md, rung 4.
//
//   dy [rows, COUT, OUT_H, OUT_W]        dyPacked [rows, HP, WP, C4] vec4 (channels 4c…4c+3, 0 past COUT and in the border)
//   weight [COUT, CIN, K, K]             weightPacked [NPAD, K, K, C4] vec4 (0 past CIN and COUT)
//   dx, x [rows, CIN, IN_H, IN_W]

#include activate
#include conv2d_common

const Q: u32 = KSIZE - 1u - PAD;           // dy's zero border: the full correlation's padding
const C4: u32 = (COUT + 3u) / 4u;          // vec4s of output channels per packed pixel
const HP: u32 = OUT_H + 2u * Q;
const WP: u32 = OUT_W + 2u * Q;
const STEPS: u32 = KK * C4;                // steps of the sum, one vec4 of channels each
const NB: u32 = 16u;                       // input channels per invocation (4 mat4 columns of 4)
const RB: u32 = 32u;                       // input positions per invocation (8 groups of 4)
const NPAD: u32 = (CIN + NB - 1u) / NB * NB;
const GROUP: u32 = 16u;                    // invocations per workgroup of the product
const PACK_GROUP: u32 = 64u;               // invocations per workgroup of the packs

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(2) var<storage, read> weight: array<f32, ${LEN_weight}u>;
@group(0) @binding(3) var<storage, read_write> dyPacked: array<vec4f, (${LEN_dyPacked}u + 3u) / 4u>;
@group(0) @binding(4) var<storage, read_write> weightPacked: array<vec4f, (${LEN_weightPacked}u + 3u) / 4u>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;
@group(0) @binding(6) var<storage, read> x: array<f32, ${LEN_x}u>;

fn flatIndex(group: vec3u, groups: vec3u, local: u32, size: u32) -> u32 {
  return (group.x + group.y * groups.x) * size + local;
}

// ---- the packs ------------------------------------------------------------------------------------

// dyPacked[n, a, b, c4] = dy[n, 4·c4 + c, a − Q, b − Q], 0 outside dy.
@compute @workgroup_size(PACK_GROUP)
fn pack_dy(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) local: u32) {
  let v = flatIndex(group, groups, local, PACK_GROUP);
  if (v >= dims.batch * HP * WP * C4) { return; }
  let c4 = v % C4;
  let pixel = v / C4;
  let b = pixel % WP - Q;            // wraps below 0
  let a = (pixel / WP) % HP - Q;
  let n = pixel / (WP * HP);
  var value = vec4f();
  if (a < OUT_H && b < OUT_W) {
    for (var c = 0u; c < 4u; c++) {
      let co = 4u * c4 + c;
      if (co < COUT) { value[c] = dy[((n * COUT + co) * OUT_H + a) * OUT_W + b]; }
    }
  }
  dyPacked[v] = value;
}

// weightPacked[ci, kh, kw, c4] = weight[4·c4 + c, ci, K−1−kh, K−1−kw]: flipped, input channels as rows.
@compute @workgroup_size(PACK_GROUP)
fn pack_weight(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) local: u32) {
  let v = flatIndex(group, groups, local, PACK_GROUP);
  if (v >= NPAD * STEPS) { return; }
  let c4 = v % C4;
  let tap = (v / C4) % KK;
  let ci = v / STEPS;
  let flipped = KK - 1u - tap;
  var value = vec4f();
  for (var c = 0u; c < 4u; c++) {
    let co = 4u * c4 + c;
    if (co < COUT && ci < CIN) { value[c] = weight[(co * CIN + ci) * KK + flipped]; }
  }
  weightPacked[v] = value;
}

// ---- the product ----------------------------------------------------------------------------------

// Where input positions m … m+3 start in dyPacked (clamped to the last position; its sums are not stored).
fn rowStarts4(m: u32) -> vec4u {
  let last = dims.batch * IN_HW - 1u;
  let r = min(vec4u(m) + vec4u(0u, 1u, 2u, 3u), vec4u(last));
  let p = r % IN_HW;
  return ((r / IN_HW * HP + p / IN_W) * WP + p % IN_W) * C4;
}

// 4 positions' vec4 at one offset: column j = position j.
fn positions4(starts: vec4u, offset: u32) -> mat4x4f {
  return mat4x4f(dyPacked[starts.x + offset], dyPacked[starts.y + offset], dyPacked[starts.z + offset], dyPacked[starts.w + offset]);
}

// Channels ci … ci+3 of one step, transposed: column c = component c of the 4 channels' vec4s.
fn channels4(ci: u32, s: u32) -> mat4x4f {
  return transpose(mat4x4f(weightPacked[ci * STEPS + s], weightPacked[(ci + 1u) * STEPS + s],
                           weightPacked[(ci + 2u) * STEPS + s], weightPacked[(ci + 3u) * STEPS + s]));
}

// dx[n, ci…ci+3, ih, iw] of positions m … m+3 (columns of `acc`, components the channels), times f'(x).
fn storeDx4(m: u32, ci: u32, acc: mat4x4f) {
  for (var j = 0u; j < 4u; j++) {
    let r = m + j;
    if (r >= dims.batch * IN_HW) { return; }
    let at = (r / IN_HW) * CIN * IN_HW + r % IN_HW;
    for (var c = 0u; c < 4u; c++) {
      if (ci + c < CIN) {
        let i = at + (ci + c) * IN_HW;
        dx[i] = acc[j][c] * inputSlope(i);
      }
    }
  }
}

// Workgroup z: a block of 16 input channels; x·y: invocations of 32 input positions each.
@compute @workgroup_size(GROUP)
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) local: u32) {
  let m = flatIndex(group, groups, local, GROUP) * RB;
  let ci = group.z * NB;
  let r0 = rowStarts4(m); let r1 = rowStarts4(m + 4u); let r2 = rowStarts4(m + 8u); let r3 = rowStarts4(m + 12u);
  let r4 = rowStarts4(m + 16u); let r5 = rowStarts4(m + 20u); let r6 = rowStarts4(m + 24u); let r7 = rowStarts4(m + 28u);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f(); var a04 = mat4x4f(); var a05 = mat4x4f(); var a06 = mat4x4f(); var a07 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f(); var a14 = mat4x4f(); var a15 = mat4x4f(); var a16 = mat4x4f(); var a17 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f(); var a24 = mat4x4f(); var a25 = mat4x4f(); var a26 = mat4x4f(); var a27 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f(); var a34 = mat4x4f(); var a35 = mat4x4f(); var a36 = mat4x4f(); var a37 = mat4x4f();
  for (var s = 0u; s < STEPS; s++) {
    let tap = s / C4;
    let offset = ((tap / KSIZE) * WP + tap % KSIZE) * C4 + s % C4;
    let w0 = channels4(ci, s); let w1 = channels4(ci + 4u, s); let w2 = channels4(ci + 8u, s); let w3 = channels4(ci + 12u, s);
    let d0 = positions4(r0, offset); let d1 = positions4(r1, offset); let d2 = positions4(r2, offset); let d3 = positions4(r3, offset);
    let d4 = positions4(r4, offset); let d5 = positions4(r5, offset); let d6 = positions4(r6, offset); let d7 = positions4(r7, offset);
    a00 += w0 * d0; a01 += w0 * d1; a02 += w0 * d2; a03 += w0 * d3; a04 += w0 * d4; a05 += w0 * d5; a06 += w0 * d6; a07 += w0 * d7;
    a10 += w1 * d0; a11 += w1 * d1; a12 += w1 * d2; a13 += w1 * d3; a14 += w1 * d4; a15 += w1 * d5; a16 += w1 * d6; a17 += w1 * d7;
    a20 += w2 * d0; a21 += w2 * d1; a22 += w2 * d2; a23 += w2 * d3; a24 += w2 * d4; a25 += w2 * d5; a26 += w2 * d6; a27 += w2 * d7;
    a30 += w3 * d0; a31 += w3 * d1; a32 += w3 * d2; a33 += w3 * d3; a34 += w3 * d4; a35 += w3 * d5; a36 += w3 * d6; a37 += w3 * d7;
  }
  storeDx4(m, ci, a00); storeDx4(m + 4u, ci, a01); storeDx4(m + 8u, ci, a02); storeDx4(m + 12u, ci, a03);
  storeDx4(m + 16u, ci, a04); storeDx4(m + 20u, ci, a05); storeDx4(m + 24u, ci, a06); storeDx4(m + 28u, ci, a07);
  storeDx4(m, ci + 4u, a10); storeDx4(m + 4u, ci + 4u, a11); storeDx4(m + 8u, ci + 4u, a12); storeDx4(m + 12u, ci + 4u, a13);
  storeDx4(m + 16u, ci + 4u, a14); storeDx4(m + 20u, ci + 4u, a15); storeDx4(m + 24u, ci + 4u, a16); storeDx4(m + 28u, ci + 4u, a17);
  storeDx4(m, ci + 8u, a20); storeDx4(m + 4u, ci + 8u, a21); storeDx4(m + 8u, ci + 8u, a22); storeDx4(m + 12u, ci + 8u, a23);
  storeDx4(m + 16u, ci + 8u, a24); storeDx4(m + 20u, ci + 8u, a25); storeDx4(m + 24u, ci + 8u, a26); storeDx4(m + 28u, ci + 8u, a27);
  storeDx4(m, ci + 12u, a30); storeDx4(m + 4u, ci + 12u, a31); storeDx4(m + 8u, ci + 12u, a32); storeDx4(m + 12u, ci + 12u, a33);
  storeDx4(m + 16u, ci + 12u, a34); storeDx4(m + 20u, ci + 12u, a35); storeDx4(m + 24u, ci + 12u, a36); storeDx4(m + 28u, ci + 12u, a37);
}

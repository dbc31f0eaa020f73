// Dense's register-blocked rungs (dense_2_blocks, dense_3_quads, dense_4_wide): the bindings, the loaders
// that read 4×4 slabs of an operand as the columns of a mat4x4f, and the clamps that let any rows and `out`
// run on tiles of whole blocks. Included, never compiled alone.
//
//   x [rows × in]    W [out × in]    b [out]    y, dy [rows × out]    dx [rows × in]    dW [out × in]
//
// `in` must be a multiple of 4 (vec4 loads along it); rows and `out` may be any count: rows and outputs past
// the end are clamped on load (their results are never stored) and, where they are summed over, multiplied by 0.

struct Dims {
  rows: u32,
  inFeatures: u32,
  outFeatures: u32,
}

// The arrays' lengths are those of the bound buffers, compiled in (LEN_x …, see kernel() in
// src/gpu/kernel.ts): the bounds checks then clamp against constants instead of SwiftShader's per-lane
// division for a run-time length (docs/perf/dense.md, compiled-in lengths).
@group(0) @binding(0) var<uniform> dims: Dims;
#if ${X_BYTES}
// x as the data set's bytes, 4 inputs per u32 (the first layer of a model trained on images: data.gather_bytes
// copies the batch's words), each input byte / 255 as ToTensor has it. One load per 4 inputs instead of 4,
// where loads set the pace (docs/perf/dense.md, byte input).
@group(0) @binding(1) var<storage, read> x: array<u32, ${LEN_x}u>;
fn x4(i4: u32) -> vec4f { return unpack4x8unorm(x[i4]); }
#else
@group(0) @binding(1) var<storage, read> x: array<vec4f, (${LEN_x}u + 3u) / 4u>;
fn x4(i4: u32) -> vec4f { return x[i4]; }
#endif
@group(0) @binding(2) var<storage, read> weight: array<vec4f, (${LEN_weight}u + 3u) / 4u>;
@group(0) @binding(3) var<storage, read> bias: array<f32, ${LEN_bias}u>;
@group(0) @binding(4) var<storage, read_write> y: array<f32, ${LEN_y}u>;
@group(0) @binding(5) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;
@group(0) @binding(7) var<storage, read_write> dWeight: array<f32, ${LEN_dWeight}u>;
@group(0) @binding(8) var<storage, read_write> dBias: array<f32, ${LEN_dBias}u>;

// A workgroup covers a tile of INVOCATIONS blocks, TILE_X blocks wide (src/layers/dense-policy.ts picks it:
// square, narrow for a 10-class forward, flat for its dW, so that few blocks fall past the last output).
const TILE_X: u32 = ${TILE_X}u;
const WG_X: u32 = TILE_X;
const WG_Y: u32 = ${INVOCATIONS}u / TILE_X;

// Indices first … first+3, clamped to count − 1 (inside() says which were not clamped).
fn clamped4(first: u32, count: u32) -> vec4u {
  return min(first + vec4u(0u, 1u, 2u, 3u), vec4u(count - 1u));
}

// Where rows first … first+3 of a [count × width] array start (in its elements), clamped to the last
// row. Worked out once per invocation where possible, so that the loops only add the step.
fn rowStarts(first: u32, count: u32, width: u32) -> vec4u {
  return clamped4(first, count) * width;
}

// Four vec4 loads as the columns of a matrix: at 4 row starts of a vec4 array, column c4.
// One loader per buffer, so each entry point binds only the buffers it reads.
fn xColumns(rows: vec4u, c4: u32) -> mat4x4f {
  return mat4x4f(x4(rows.x + c4), x4(rows.y + c4), x4(rows.z + c4), x4(rows.w + c4));
}
fn wColumns(rows: vec4u, c4: u32) -> mat4x4f {
  return mat4x4f(weight[rows.x + c4], weight[rows.y + c4], weight[rows.z + c4], weight[rows.w + c4]);
}
// dy is read as scalars so that `out` need not be a multiple of 4: column j = row j over 4 outputs.
fn dyColumns(rows: vec4u, outs: vec4u) -> mat4x4f {
  return mat4x4f(dyRow(rows.x, outs), dyRow(rows.y, outs), dyRow(rows.z, outs), dyRow(rows.w, outs));
}
fn dyRow(start: u32, outs: vec4u) -> vec4f {
  return vec4f(dy[start + outs.x], dy[start + outs.y], dy[start + outs.z], dy[start + outs.w]);
}

// Column j times keep[j]: drops the terms of clamped rows or outputs from a sum.
fn maskColumns(m: mat4x4f, keep: vec4f) -> mat4x4f {
  return mat4x4f(m[0] * keep.x, m[1] * keep.y, m[2] * keep.z, m[3] * keep.w);
}

// 1 for first … first+3 below count, 0 past it: which of clamped4's indices are real.
fn inside(first: u32, count: u32) -> vec4f {
  return vec4f(first + vec4u(0u, 1u, 2u, 3u) < vec4u(count));
}

// An invocation's 8×8 block of sums as four 4×4 matrices: mRC covers half R of its rows and half C of its
// columns, where each half is 4 indices from a start that a vec2u (…Halves) holds.
struct Block { m00: mat4x4f, m01: mat4x4f, m10: mat4x4f, m11: mat4x4f }

// The halves of 8 indices from `first`, in order: what the plain entry points use.
fn inOrder(first: u32) -> vec2u {
  return vec2u(first, first + 4u);
}

// NaN where this invocation's quad is not laid out as the quad probe found (checkQuads() in
// shaders/dense_quad_share.wgsl), else 0, as always in rung 2: added to every output the stores write.
var<private> quadError: f32;

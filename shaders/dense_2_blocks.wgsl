#if ${SUBGROUPS}
enable subgroups;
#include quads
#endif

#include activate

// Dense layer, the fast path: y = x·Wᵀ + b, dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy.
//
//   x  [rows × in]    W  [out × in]    b [out]    y, dy [rows × out]    dx [rows × in]    dW [out × in]
//
// Register blocking, no workgroup memory: each invocation owns an 8×8 block of its output, kept as
// four 4×4 matrices (acc00 … acc11), and walks the summed dimension 4 at a time. Each step loads two
// 8×4 slabs as the columns of mat4x4s and does 4 mat4×mat4 products: 256 multiply-adds for 64 loaded
// floats. On a CPU adapter (SwiftShader) "global" memory is cached anyway, so staging tiles in
// workgroup memory only adds copies and barriers: this measured 2-3× faster than the tiled
// kernel (shaders/matmul_tiled.wgsl) there. On a GPU the 8×8 blocks still reuse each load 8 times.
//
// Why 8×8 and 4 per step: SwiftShader runs 4 invocations as the lanes of one SIMD register and loads a
// value per lane one at a time, so a load costs about as much as 7-10 multiply-adds there; what sets
// the speed is multiply-adds per loaded float (8×8: 4). Blocks of 32×16 are faster still on SwiftShader,
// so a fallback adapter takes them for big products (Wide, below); on a GPU 256 accumulators per
// invocation would spill. Longer loop bodies also pay:
// stepping the sum 1 at a time instead of 4 measured 1.3× slower.
//
// Subgroups (SUBGROUPS, set when the device has the `subgroups` feature; the plain kernels otherwise): a
// quad, subgroup lanes 4q … 4q+3 (on SwiftShader: one SIMD register), computes a 16×16 tile as 2×2 blocks
// of 8×8 (quadBlock()). The two lanes side by side need the same 8 rows of one operand, the two above
// each other the same 8 of the other, so each lane loads half of both (16 + 16 floats per step instead
// of 32 + 32) and takes the other halves from its partners with quadSwapX and quadSwapY. SwiftShader does a
// quad swap as one register shuffle per component, against ~12 operations per component for
// subgroupShuffle (it compares the source lane with every lane): the same 2×2 sharing by
// subgroupShuffleXor measured no faster than the 4×1 quads it replaces (each lane loading 2 of 8 shared
// rows, 10 loads per step). With quad swaps, CPU time against those, 784→128 at batch 64 and 1000, least
// of 13 rounds under load 9-10 (an A/A copy read ×0.94–1.00): forward ×0.74 and ×0.75, dW ×0.71 and
// ×0.72; dx (no subgroup variant before) ×0.68 and ×0.70. Stepping the sums 8 at a time measured no
// faster. Any subgroup size from 4 works. Blocks are placed by local_invocation_index, and WGSL does not
// say how lanes map onto invocations, so the host asks once (Gpu.quadsAligned: shaders/quad_probe.wgsl runs
// quadsAligned() of shaders/quads.wgsl in workgroups of 8, 16 and 64 invocations) and builds these entry points
// only where every quad is invocations 4m … 4m+3 in order; the plain kernels otherwise. They used to keep
// the plain loop too, behind that check per invocation: never taken, it still cost SwiftShader time (without
// it: the MLP's 784→128 dW ×0.81 CPU time at batch 64, ×0.96 at 1000; its whole step ×0.93 at both).
// Each invocation still checks, and if its quad is not as the probe found, it adds NaN to every output
// it stores (quadError), so that a mistaken probe shows as NaN rather than as plausible numbers.
//
// Fusion (src/graph/sequential.ts): forward stores f(x·Wᵀ + b) when an activation follows the layer, and
// backward-data stores dx·f'(x) when an activation produced x, so those activations need no pass of
// their own; shaders/activate.wgsl holds f and f' (the identity when ACTIVATED is false).
//
// Needs `in` to be a multiple of 4 (vec4 loads along it); src/layers/dense.ts uses the tiled kernel
// otherwise. Rows and `out` may be any count: rows and outputs past the end are clamped on load (their
// results are never stored) and, where they are summed over, multiplied by 0.

struct Dims {
  rows: u32,
  inFeatures: u32,
  outFeatures: u32,
}

// The arrays' lengths are those of the bound buffers, compiled in (LEN_x …, see kernel() in
// src/gpu/kernel.ts): the bounds checks then clamp against constants instead of SwiftShader's per-lane
// division for a run-time length, ×0.96 CPU time for the 784→128 forward, ×0.77–0.85 for the bias gradient.
@group(0) @binding(0) var<uniform> dims: Dims;
#if ${X_BYTES}
// x as the data set's bytes, 4 inputs per u32 (the first layer of a model trained on images: data.gather_bytes
// copies the batch's words), each input byte / 255 as ToTensor has it. One load per 4 inputs instead of 4:
// on SwiftShader, where loads set the pace, the MLP's 784→128 forward took ×0.87–0.89 the CPU time and its
// dW ×0.89–0.92 (batch 64 and 1000; bench/cpu-cases.ts `dense1.*.bytes` against `dense1.*`).
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

// A workgroup covers a tile of 64 blocks of 8×8, TILE_X blocks wide: 8 × 8 blocks (64×64 outputs) in
// general, but 2 × 32 (16×256) when the product has at most 16 columns and 32 × 2 when it has at most 16
// rows (src/layers/dense.ts picks), so that a 10-class layer does not compute 3 blocks past its last
// output for every one it needs: cnn-arch1's 800→10 layer then took 3.3–3.7× less CPU at batch 1000
// (forward and dW), its dW 3.3× less at batch 64 (bench/cpu-cases.ts `dense10.*`). A narrow product at
// most 64 rows tall takes 16 invocations (16×64 outputs) instead: that layer's forward at batch 64; a flat
// one at most 64 columns wide 8 × 2 (64×16): the MLP's 64→10 dW. The wide entry points run 8 invocations
// of 16×32 or 32×16 blocks (64×64 outputs; dense.ts says why).
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

// NaN where this invocation's quad is not laid out as Gpu.quadsAligned promised (checkQuads()), else 0, as
// always in the plain kernels: added to every output the stores write.
var<private> quadError: f32;

#if ${SUBGROUPS}
// Where local invocation `local` puts its block (`block`: columns × rows, 8×8, or 16×32 for the wide entry
// points) in the workgroup's tile (column, row): the quad of invocations 4m … 4m+3 covers 2×2 blocks, bit 0
// of `local` picking the column half, bit 1 the row half. So the invocations local ^ 1 share the rows and
// local ^ 2 share the columns.
fn quadBlock(local: u32, block: vec2u) -> vec2u {
  let quad = local / 4u;
  let quadsAcross = TILE_X / 2u;
  return vec2u((quad % quadsAcross) * 2u + (local & 1u), (quad / quadsAcross) * 2u + (local & 2u) / 2u) * block;
}

// The halves of `block` indices from `first`, the one this invocation loads first: of the two invocations
// that share these indices, the one with `bit` of `local` set loads the upper half, the other the lower.
fn splitHalves(first: u32, block: u32, local: u32, bit: u32) -> vec2u {
  let mine = select(0u, block / 2u, (local & bit) != 0u);
  return vec2u(first + mine, first + block / 2u - mine);
}

// This invocation's block of the workgroup's tile (`block`: columns × rows): its columns (shared with
// invocation local ^ 2) and rows (shared with local ^ 1) as the starts of two halves (4 indices each; wide
// blocks: 8 columns, 16 rows), and the block's first column and row.
struct QuadHalves { columns: vec2u, rows: vec2u, first: vec2u }

fn quadHalves(group: vec2u, local: u32, block: vec2u) -> QuadHalves {
  let at = group * vec2u(WG_X, WG_Y) * block + quadBlock(local, block);
  return QuadHalves(splitHalves(at.x, block.x, local, 2u), splitHalves(at.y, block.y, local, 1u), at);
}

// Sets quadError (above) for this invocation.
fn checkQuads(local: u32, lane: u32) {
  let nanBits = 0x7fc00000u;  // a let: WGSL rejects a NaN computed at compile time
  quadError = select(bitcast<f32>(nanBits), 0.0, quadsAligned(local, lane));
}

// The matrix of the partner across (lane ^ 1) and along (lane ^ 2) the quad. The sums call them in loops
// over the steps of their slice, which WGSL's uniformity analysis takes as non-uniform (`slice` is a private
// variable), though it is the workgroup's z: hence the diagnostic filters.
@diagnostic(off, subgroup_uniformity)
fn partnerX(mine: mat4x4f) -> mat4x4f {
  return mat4x4f(quadSwapX(mine[0]), quadSwapX(mine[1]), quadSwapX(mine[2]), quadSwapX(mine[3]));
}
@diagnostic(off, subgroup_uniformity)
fn partnerY(mine: mat4x4f) -> mat4x4f {
  return mat4x4f(quadSwapY(mine[0]), quadSwapY(mine[1]), quadSwapY(mine[2]), quadSwapY(mine[3]));
}

// Wide blocks (the _wide entry points; src/layers/dense.ts takes them on a fallback adapter, i.e. a CPU
// one, wherever the tile is square): an invocation owns 32 × 16 outputs (forward and dx: 32 rows, dW: 32
// inputs), 4×2 blocks of 8×8 (bTS: T picks 8 of the 32, S 8 of the 16; wideStarts() and QuadHalves say
// where they start), and loads 16 + 8 of its 32 + 16 operand rows per step, its quad partners the rest. That is 2,048 multiply-adds
// for 96 loaded floats, 21 per float against the 8×8 kernels' 8: SwiftShader does a load per lane one at a
// time, at about the cost of 8–11 multiply-adds. Blocks of 16×16 (16 per float) had made the forward of the
// MLP's 784→128 layer at batch 1000 ×0.78 the CPU and wall-clock time of 8×8; 32×16 took ×0.86–0.89 of that
// (×0.90–0.96 at batch 64, least and median of 11–15 rounds; the MLP's whole step ×0.90 at batch 1000, ×0.97
// at 64); 32×32 gained nothing more and compiled slower.
// A GPU would have to spill the 512 accumulators per invocation to memory, so it keeps the 8×8 blocks.
struct Wide { b00: Block, b01: Block, b10: Block, b11: Block, b20: Block, b21: Block, b30: Block, b31: Block }

// Where the blocks b0…, b1…, b2…, b3… of Wide start along the 32 side, from its halves: the invocation's
// own 16 (b0, b1), then its partner's (b2, b3).
fn wideStarts(halves: vec2u) -> vec4u {
  return vec4u(halves.x, halves.x + 8u, halves.y, halves.y + 8u);
}
#endif

// ---- split sums (SPLITS > 1): a GPU's products with few outputs for the length of their sums -------
// One invocation walking a whole sum of 800 or 1,000 terms for its 8×8 block leaves a GPU idle when there
// are only hundreds of blocks (a 10-class layer, dW's sum over a batch). So the summed dimension (forward:
// the inputs; dW: the rows; 4 per step) is cut into SPLITS slices of whole steps, workgroup z sums slice z
// into copy z of the output, and reduce_splits adds the copies in order, the same every run.
// src/layers/dense.ts picks SPLITS; a CPU adapter always takes 1, where the slices would only add a pass.
const SPLITS: u32 = ${SPLITS}u;

// The slice this invocation sums (its workgroup's z), set by the entry point; 0 when SPLITS is 1.
var<private> slice: u32;

// [first, end) of the steps of `count` terms, `step` at a time, that slice `slice` sums.
fn sliceSpan(count: u32, step: u32) -> vec2u {
  let perSlice = ((count + step - 1u) / step + SPLITS - 1u) / SPLITS * step;
  return min(vec2u(slice, slice + 1u) * perSlice, vec2u(count));
}

// ---- forward: y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] ------------------------------------------
// acc column j = rows of y for output o_j: transpose(X_rows)·W_outs, X_rows = mat(x[r, i..i+3]).
@compute @workgroup_size(WG_X, WG_Y)
#if ${SUBGROUPS}
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
           @builtin(subgroup_invocation_id) lane: u32) {
  slice = group.z;
  let h = quadHalves(group.xy, local, vec2u(8u));  // columns: 8 outputs (W rows), rows: 8 rows (x rows)
  checkQuads(local, lane);
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  let acc = forwardSumShared(h.rows, h.columns);
  if (h.first.x >= dims.outFeatures || h.first.y >= dims.rows) { return; }
  storeForwardBlock(acc, h.rows, h.columns);
}

// forwardSum loading only this invocation's halves (rowHalves.x, outHalves.x): its partners load the others.
fn forwardSumShared(rowHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let xRows = rowStarts(rowHalves.x, dims.rows, in4);
  let wRows = rowStarts(outHalves.x, dims.outFeatures, in4);
  let span = sliceSpan(in4, 1u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var i4 = span.x; i4 < span.y; i4++) {
    let xA = transpose(xColumns(xRows, i4));
    let wA = wColumns(wRows, i4);
    let xB = partnerX(xA);
    let wB = partnerY(wA);
    acc00 += xA * wA; acc01 += xA * wB; acc10 += xB * wA; acc11 += xB * wB;
  }
  return Block(acc00, acc01, acc10, acc11);
}
#else
fn forward(@builtin(global_invocation_id) id: vec3u) {
  slice = id.z;
  let o0 = id.x * 8u;  // 8 outputs
  let r0 = id.y * 8u;  // 8 rows
  if (o0 >= dims.outFeatures || r0 >= dims.rows) { return; }
  storeForwardBlock(forwardSum(inOrder(r0), inOrder(o0)), inOrder(r0), inOrder(o0));
}
#endif

fn forwardSum(rowHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let xRowsA = rowStarts(rowHalves.x, dims.rows, in4);
  let xRowsB = rowStarts(rowHalves.y, dims.rows, in4);
  let wRowsA = rowStarts(outHalves.x, dims.outFeatures, in4);
  let wRowsB = rowStarts(outHalves.y, dims.outFeatures, in4);
  let span = sliceSpan(in4, 1u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var i4 = span.x; i4 < span.y; i4++) {
    let xA = transpose(xColumns(xRowsA, i4));
    let xB = transpose(xColumns(xRowsB, i4));
    let wA = wColumns(wRowsA, i4);
    let wB = wColumns(wRowsB, i4);
    acc00 += xA * wA; acc01 += xA * wB; acc10 += xB * wA; acc11 += xB * wB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

// mRC[j][k] = y[rowHalves[R] + k, outHalves[C] + j]
fn storeForwardBlock(acc: Block, rowHalves: vec2u, outHalves: vec2u) {
  storeForward(acc.m00, rowHalves.x, outHalves.x); storeForward(acc.m01, rowHalves.x, outHalves.y);
  storeForward(acc.m10, rowHalves.y, outHalves.x); storeForward(acc.m11, rowHalves.y, outHalves.y);
}

fn storeForward(block: mat4x4f, row: u32, out: u32) {
  let rows = transpose(block);  // rows[k][j] = y[row + k, out + j]
  storeForwardRow(rows[0], row, out); storeForwardRow(rows[1], row + 1u, out);
  storeForwardRow(rows[2], row + 2u, out); storeForwardRow(rows[3], row + 3u, out);
}

fn storeForwardRow(sums: vec4f, row: u32, out: u32) {
  if (row < dims.rows) {
    storeY(sums.x, row, out); storeY(sums.y, row, out + 1u); storeY(sums.z, row, out + 2u); storeY(sums.w, row, out + 3u);
  }
}

fn storeY(sum: f32, row: u32, o: u32) {
  if (o < dims.outFeatures) {
#if ${FORWARD_SPLIT}
    // A slice's sum, into copy `slice` of y: reduce_splits adds the copies, the bias and the activation.
    y[(slice * dims.rows + row) * dims.outFeatures + o] = sum + quadError;
#else
    y[row * dims.outFeatures + o] = activate(sum + bias[o]) + quadError;
#endif
  }
}

#if ${SUBGROUPS}
// The forward with 32×16 blocks (Wide above): 32 rows × 16 outputs, halves of 16 rows and 8 outputs, mine first.
@compute @workgroup_size(WG_X, WG_Y)
fn forward_wide(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(16u, 32u));  // columns: 16 outputs (W rows), rows: 32 rows (x rows)
  checkQuads(local, lane);
  let acc = forwardSumWide(h.rows.x, h.columns.x);
  if (h.first.x >= dims.outFeatures || h.first.y >= dims.rows) { return; }
  let r = wideStarts(h.rows); let c = h.columns;
  storeForwardBlock(acc.b00, inOrder(r[0]), inOrder(c.x)); storeForwardBlock(acc.b01, inOrder(r[0]), inOrder(c.y));
  storeForwardBlock(acc.b10, inOrder(r[1]), inOrder(c.x)); storeForwardBlock(acc.b11, inOrder(r[1]), inOrder(c.y));
  storeForwardBlock(acc.b20, inOrder(r[2]), inOrder(c.x)); storeForwardBlock(acc.b21, inOrder(r[2]), inOrder(c.y));
  storeForwardBlock(acc.b30, inOrder(r[3]), inOrder(c.x)); storeForwardBlock(acc.b31, inOrder(r[3]), inOrder(c.y));
}

// This invocation loads rows myRows … +15 of x (matrices 0–3) and outputs myOuts … +7 of W (0, 1); its partners
// across and along the quad the other 16 rows (4–7) and 8 outputs (2, 3). aRC: rows matrix R, outputs matrix C.
fn forwardSumWide(myRows: u32, myOuts: u32) -> Wide {
  let in4 = dims.inFeatures / 4u;
  let xRows0 = rowStarts(myRows, dims.rows, in4); let xRows1 = rowStarts(myRows + 4u, dims.rows, in4);
  let xRows2 = rowStarts(myRows + 8u, dims.rows, in4); let xRows3 = rowStarts(myRows + 12u, dims.rows, in4);
  let wRows0 = rowStarts(myOuts, dims.outFeatures, in4); let wRows1 = rowStarts(myOuts + 4u, dims.outFeatures, in4);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f();
  var a40 = mat4x4f(); var a41 = mat4x4f(); var a42 = mat4x4f(); var a43 = mat4x4f();
  var a50 = mat4x4f(); var a51 = mat4x4f(); var a52 = mat4x4f(); var a53 = mat4x4f();
  var a60 = mat4x4f(); var a61 = mat4x4f(); var a62 = mat4x4f(); var a63 = mat4x4f();
  var a70 = mat4x4f(); var a71 = mat4x4f(); var a72 = mat4x4f(); var a73 = mat4x4f();
  for (var i4 = 0u; i4 < in4; i4++) {
    let x0 = transpose(xColumns(xRows0, i4)); let x1 = transpose(xColumns(xRows1, i4));
    let x2 = transpose(xColumns(xRows2, i4)); let x3 = transpose(xColumns(xRows3, i4));
    let w0 = wColumns(wRows0, i4); let w1 = wColumns(wRows1, i4);
    let x4 = partnerX(x0); let x5 = partnerX(x1); let x6 = partnerX(x2); let x7 = partnerX(x3);
    let w2 = partnerY(w0); let w3 = partnerY(w1);
    a00 += x0 * w0; a01 += x0 * w1; a02 += x0 * w2; a03 += x0 * w3;
    a10 += x1 * w0; a11 += x1 * w1; a12 += x1 * w2; a13 += x1 * w3;
    a20 += x2 * w0; a21 += x2 * w1; a22 += x2 * w2; a23 += x2 * w3;
    a30 += x3 * w0; a31 += x3 * w1; a32 += x3 * w2; a33 += x3 * w3;
    a40 += x4 * w0; a41 += x4 * w1; a42 += x4 * w2; a43 += x4 * w3;
    a50 += x5 * w0; a51 += x5 * w1; a52 += x5 * w2; a53 += x5 * w3;
    a60 += x6 * w0; a61 += x6 * w1; a62 += x6 * w2; a63 += x6 * w3;
    a70 += x7 * w0; a71 += x7 * w1; a72 += x7 * w2; a73 += x7 * w3;
  }
  return Wide(Block(a00, a01, a10, a11), Block(a02, a03, a12, a13), Block(a20, a21, a30, a31), Block(a22, a23, a32, a33),
              Block(a40, a41, a50, a51), Block(a42, a43, a52, a53), Block(a60, a61, a70, a71), Block(a62, a63, a72, a73));
}
#endif

// ---- backward-data: dx[r, i] = Σ_o dy[r, o]·W[o, i] ----------------------------------------
// acc column j = dx row r_j over 4 inputs: W_slab·DY_rows, W_slab = mat(W[o, i..i+3]) over 4 o.
@compute @workgroup_size(WG_X, WG_Y)
#if ${SUBGROUPS}
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                 @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(8u));  // columns: 8 inputs (W columns), rows: 8 rows (dy rows)
  checkQuads(local, lane);
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  let acc = dataSumShared(h.columns, h.rows);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.rows) { return; }
  storeDataBlock(acc, h.columns, h.rows);
}

// dataSum loading only this invocation's halves (inHalves.x, rowHalves.x): its partners load the others.
fn dataSumShared(inHalves: vec2u, rowHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let dyRows = rowStarts(rowHalves.x, dims.rows, dims.outFeatures);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var o = 0u; o < dims.outFeatures; o += 4u) {
    let outs = clamped4(o, dims.outFeatures);
    let dA = dyColumns(dyRows, outs);
    let wA = maskColumns(wColumns(outs * in4, iA), inside(o, dims.outFeatures));
    let dB = partnerX(dA);
    let wB = partnerY(wA);
    acc00 += wA * dA; acc01 += wB * dA; acc10 += wA * dB; acc11 += wB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}
#else
fn backward_data(@builtin(global_invocation_id) id: vec3u) {
  let i0 = id.x * 8u;  // 8 inputs (two vec4 columns of W)
  let r0 = id.y * 8u;  // 8 rows
  if (i0 >= dims.inFeatures || r0 >= dims.rows) { return; }
  storeDataBlock(dataSum(inOrder(i0), inOrder(r0)), inOrder(i0), inOrder(r0));
}
#endif

fn dataSum(inHalves: vec2u, rowHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let iB = min(inHalves.y / 4u, in4 - 1u);
  let dyRowsA = rowStarts(rowHalves.x, dims.rows, dims.outFeatures);
  let dyRowsB = rowStarts(rowHalves.y, dims.rows, dims.outFeatures);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var o = 0u; o < dims.outFeatures; o += 4u) {
    let outs = clamped4(o, dims.outFeatures);
    let keep = inside(o, dims.outFeatures);
    let dA = dyColumns(dyRowsA, outs);
    let dB = dyColumns(dyRowsB, outs);
    let wA = maskColumns(wColumns(outs * in4, iA), keep);
    let wB = maskColumns(wColumns(outs * in4, iB), keep);
    acc00 += wA * dA; acc01 += wB * dA; acc10 += wA * dB; acc11 += wB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

#if ${SUBGROUPS}
// backward-data with 32×16 blocks (Wide above): 32 rows × 16 inputs, halves of 16 rows and 8 inputs, mine first.
@compute @workgroup_size(WG_X, WG_Y)
fn backward_data_wide(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                      @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(16u, 32u));  // columns: 16 inputs (W columns), rows: 32 rows (dy rows)
  checkQuads(local, lane);
  let acc = dataSumWide(h.columns.x, h.rows.x);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.rows) { return; }
  let r = wideStarts(h.rows); let c = h.columns;
  storeDataBlock(acc.b00, inOrder(c.x), inOrder(r[0])); storeDataBlock(acc.b01, inOrder(c.y), inOrder(r[0]));
  storeDataBlock(acc.b10, inOrder(c.x), inOrder(r[1])); storeDataBlock(acc.b11, inOrder(c.y), inOrder(r[1]));
  storeDataBlock(acc.b20, inOrder(c.x), inOrder(r[2])); storeDataBlock(acc.b21, inOrder(c.y), inOrder(r[2]));
  storeDataBlock(acc.b30, inOrder(c.x), inOrder(r[3])); storeDataBlock(acc.b31, inOrder(c.y), inOrder(r[3]));
}

// This invocation loads rows myRows … +15 of dy (matrices 0–3) and inputs myIns … +7 of W (0, 1); its partners
// across and along the quad the other 16 rows (4–7) and 8 inputs (2, 3). aRC: rows matrix R, inputs matrix C.
fn dataSumWide(myIns: u32, myRows: u32) -> Wide {
  let in4 = dims.inFeatures / 4u;
  let i0 = min(myIns / 4u, in4 - 1u);
  let i1 = min(myIns / 4u + 1u, in4 - 1u);
  let dyRows0 = rowStarts(myRows, dims.rows, dims.outFeatures); let dyRows1 = rowStarts(myRows + 4u, dims.rows, dims.outFeatures);
  let dyRows2 = rowStarts(myRows + 8u, dims.rows, dims.outFeatures); let dyRows3 = rowStarts(myRows + 12u, dims.rows, dims.outFeatures);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f();
  var a40 = mat4x4f(); var a41 = mat4x4f(); var a42 = mat4x4f(); var a43 = mat4x4f();
  var a50 = mat4x4f(); var a51 = mat4x4f(); var a52 = mat4x4f(); var a53 = mat4x4f();
  var a60 = mat4x4f(); var a61 = mat4x4f(); var a62 = mat4x4f(); var a63 = mat4x4f();
  var a70 = mat4x4f(); var a71 = mat4x4f(); var a72 = mat4x4f(); var a73 = mat4x4f();
  for (var o = 0u; o < dims.outFeatures; o += 4u) {
    let outs = clamped4(o, dims.outFeatures);
    let keep = inside(o, dims.outFeatures);
    let d0 = dyColumns(dyRows0, outs); let d1 = dyColumns(dyRows1, outs);
    let d2 = dyColumns(dyRows2, outs); let d3 = dyColumns(dyRows3, outs);
    let w0 = maskColumns(wColumns(outs * in4, i0), keep); let w1 = maskColumns(wColumns(outs * in4, i1), keep);
    let d4 = partnerX(d0); let d5 = partnerX(d1); let d6 = partnerX(d2); let d7 = partnerX(d3);
    let w2 = partnerY(w0); let w3 = partnerY(w1);
    a00 += w0 * d0; a01 += w1 * d0; a02 += w2 * d0; a03 += w3 * d0;
    a10 += w0 * d1; a11 += w1 * d1; a12 += w2 * d1; a13 += w3 * d1;
    a20 += w0 * d2; a21 += w1 * d2; a22 += w2 * d2; a23 += w3 * d2;
    a30 += w0 * d3; a31 += w1 * d3; a32 += w2 * d3; a33 += w3 * d3;
    a40 += w0 * d4; a41 += w1 * d4; a42 += w2 * d4; a43 += w3 * d4;
    a50 += w0 * d5; a51 += w1 * d5; a52 += w2 * d5; a53 += w3 * d5;
    a60 += w0 * d6; a61 += w1 * d6; a62 += w2 * d6; a63 += w3 * d6;
    a70 += w0 * d7; a71 += w1 * d7; a72 += w2 * d7; a73 += w3 * d7;
  }
  return Wide(Block(a00, a01, a10, a11), Block(a02, a03, a12, a13), Block(a20, a21, a30, a31), Block(a22, a23, a32, a33),
              Block(a40, a41, a50, a51), Block(a42, a43, a52, a53), Block(a60, a61, a70, a71), Block(a62, a63, a72, a73));
}
#endif

// mRC[j][k] = dx[rowHalves[R] + j, inHalves[C] + k]
fn storeDataBlock(acc: Block, inHalves: vec2u, rowHalves: vec2u) {
  storeRows(acc.m00, rowHalves.x, inHalves.x); storeRows(acc.m01, rowHalves.x, inHalves.y);
  storeRows(acc.m10, rowHalves.y, inHalves.x); storeRows(acc.m11, rowHalves.y, inHalves.y);
}

fn storeRows(block: mat4x4f, row: u32, col: u32) {
  if (col >= dims.inFeatures) { return; }
  storeRow(block[0], row, col); storeRow(block[1], row + 1u, col); storeRow(block[2], row + 2u, col); storeRow(block[3], row + 3u, col);
}

fn storeRow(sums: vec4f, row: u32, col: u32) {
  if (row < dims.rows) {
    let at = row * dims.inFeatures + col;
    let v = sums * inputSlope(at / 4u) + quadError;
    dx[at] = v.x; dx[at + 1u] = v.y; dx[at + 2u] = v.z; dx[at + 3u] = v.w;
  }
}

// f' of the activation that produced x, at the 4 inputs of x[i4], when its backward is fused into this
// store (ACTIVATED); 1 otherwise, and x is not read.
fn inputSlope(i4: u32) -> vec4f {
#if ${ACTIVATED}
  let v = x4(i4);
  return vec4f(slope(v.x), slope(v.y), slope(v.z), slope(v.w));
#else
  return vec4f(1.0);
#endif
}

// ---- backward-weights: dW[o, i] = Σ_r dy[r, o]·x[r, i] --------------------------------------
// acc column j = dW row o_j over 4 inputs: X_slab·transpose(DY_slab), slabs over 4 rows r.
@compute @workgroup_size(WG_X, WG_Y)
#if ${SUBGROUPS}
fn backward_weights(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                    @builtin(subgroup_invocation_id) lane: u32) {
  slice = group.z;
  let h = quadHalves(group.xy, local, vec2u(8u));  // columns: 8 inputs (x columns), rows: 8 outputs (dy columns)
  checkQuads(local, lane);
  // No early return past the end: loads are clamped anyway, and the quad needs every lane.
  let acc = weightsSumShared(h.columns, h.rows);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.outFeatures) { return; }
  storeWeightsBlock(acc, h.columns, h.rows);
}

// weightsSum loading only this invocation's halves (inHalves.x, outHalves.x): its partners load the others.
fn weightsSumShared(inHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let oA = clamped4(outHalves.x, dims.outFeatures);
  let span = sliceSpan(dims.rows, 4u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var r = span.x; r < span.y; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let dyRows = rowStarts(r, dims.rows, dims.outFeatures);
    let xA = maskColumns(xColumns(xRows, iA), inside(r, dims.rows));
    let dA = transpose(dyColumns(dyRows, oA));
    let xB = partnerY(xA);
    let dB = partnerX(dA);
    acc00 += xA * dA; acc01 += xB * dA; acc10 += xA * dB; acc11 += xB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}
#else
fn backward_weights(@builtin(global_invocation_id) id: vec3u) {
  slice = id.z;
  let i0 = id.x * 8u;  // 8 inputs
  let o0 = id.y * 8u;  // 8 outputs
  if (i0 >= dims.inFeatures || o0 >= dims.outFeatures) { return; }
  storeWeightsBlock(weightsSum(inOrder(i0), inOrder(o0)), inOrder(i0), inOrder(o0));
}
#endif

fn weightsSum(inHalves: vec2u, outHalves: vec2u) -> Block {
  let in4 = dims.inFeatures / 4u;
  let iA = min(inHalves.x / 4u, in4 - 1u);
  let iB = min(inHalves.y / 4u, in4 - 1u);
  let oA = clamped4(outHalves.x, dims.outFeatures);
  let oB = clamped4(outHalves.y, dims.outFeatures);
  let span = sliceSpan(dims.rows, 4u);
  var acc00 = mat4x4f(); var acc01 = mat4x4f(); var acc10 = mat4x4f(); var acc11 = mat4x4f();
  for (var r = span.x; r < span.y; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let dyRows = rowStarts(r, dims.rows, dims.outFeatures);
    let keep = inside(r, dims.rows);
    let xA = maskColumns(xColumns(xRows, iA), keep);
    let xB = maskColumns(xColumns(xRows, iB), keep);
    let dA = transpose(dyColumns(dyRows, oA));
    let dB = transpose(dyColumns(dyRows, oB));
    acc00 += xA * dA; acc01 += xB * dA; acc10 += xA * dB; acc11 += xB * dB;
  }
  return Block(acc00, acc01, acc10, acc11);
}

// mOI[j][k] = dW[outHalves[O] + j, inHalves[I] + k]
fn storeWeightsBlock(acc: Block, inHalves: vec2u, outHalves: vec2u) {
  storeWeights(acc.m00, outHalves.x, inHalves.x); storeWeights(acc.m01, outHalves.x, inHalves.y);
  storeWeights(acc.m10, outHalves.y, inHalves.x); storeWeights(acc.m11, outHalves.y, inHalves.y);
}

fn storeWeights(block: mat4x4f, out: u32, col: u32) {
  if (col >= dims.inFeatures) { return; }
  let at = (slice * dims.outFeatures + out) * dims.inFeatures + col;  // copy `slice` of dW when split
  storeWeightRow(block[0], at, out);
  storeWeightRow(block[1], at + dims.inFeatures, out + 1u);
  storeWeightRow(block[2], at + 2u * dims.inFeatures, out + 2u);
  storeWeightRow(block[3], at + 3u * dims.inFeatures, out + 3u);
}

fn storeWeightRow(row: vec4f, at: u32, out: u32) {
  if (out < dims.outFeatures) {
    let v = row + quadError;
    dWeight[at] = v.x; dWeight[at + 1u] = v.y; dWeight[at + 2u] = v.z; dWeight[at + 3u] = v.w;
  }
}

#if ${SUBGROUPS}
// backward-weights with 32×16 blocks (Wide above): 32 inputs × 16 outputs, halves of 16 inputs and 8 outputs, mine
// first. The inputs are the long side because a first layer's x holds bytes, 4 inputs to a load: against 16×16
// blocks the MLP's 784→128 dW took ×0.86 the CPU time at batch 1000 and ×0.90 at 64 so, ×0.94 and ×1.01 with
// 32 outputs × 16 inputs (least of 11 rounds).
@compute @workgroup_size(WG_X, WG_Y)
fn backward_weights_wide(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32,
                         @builtin(subgroup_invocation_id) lane: u32) {
  let h = quadHalves(group.xy, local, vec2u(32u, 16u));  // columns: 32 inputs (x columns), rows: 16 outputs (dy columns)
  checkQuads(local, lane);
  let acc = weightsSumWide(h.columns.x, h.rows.x);
  if (h.first.x >= dims.inFeatures || h.first.y >= dims.outFeatures) { return; }
  let i = wideStarts(h.columns); let o = h.rows;
  storeWeightsBlock(acc.b00, inOrder(i[0]), inOrder(o.x)); storeWeightsBlock(acc.b01, inOrder(i[0]), inOrder(o.y));
  storeWeightsBlock(acc.b10, inOrder(i[1]), inOrder(o.x)); storeWeightsBlock(acc.b11, inOrder(i[1]), inOrder(o.y));
  storeWeightsBlock(acc.b20, inOrder(i[2]), inOrder(o.x)); storeWeightsBlock(acc.b21, inOrder(i[2]), inOrder(o.y));
  storeWeightsBlock(acc.b30, inOrder(i[3]), inOrder(o.x)); storeWeightsBlock(acc.b31, inOrder(i[3]), inOrder(o.y));
}

// This invocation loads inputs myIns … +15 of x (matrices 0–3) and outputs myOuts … +7 of dy (0, 1); its partners
// along and across the quad the other 16 inputs (4–7) and 8 outputs (2, 3). aRC: outputs matrix R, inputs matrix C.
fn weightsSumWide(myIns: u32, myOuts: u32) -> Wide {
  let in4 = dims.inFeatures / 4u;
  let i0 = min(myIns / 4u, in4 - 1u); let i1 = min(myIns / 4u + 1u, in4 - 1u);
  let i2 = min(myIns / 4u + 2u, in4 - 1u); let i3 = min(myIns / 4u + 3u, in4 - 1u);
  let o0 = clamped4(myOuts, dims.outFeatures); let o1 = clamped4(myOuts + 4u, dims.outFeatures);
  var a00 = mat4x4f(); var a01 = mat4x4f(); var a02 = mat4x4f(); var a03 = mat4x4f(); var a04 = mat4x4f(); var a05 = mat4x4f(); var a06 = mat4x4f(); var a07 = mat4x4f();
  var a10 = mat4x4f(); var a11 = mat4x4f(); var a12 = mat4x4f(); var a13 = mat4x4f(); var a14 = mat4x4f(); var a15 = mat4x4f(); var a16 = mat4x4f(); var a17 = mat4x4f();
  var a20 = mat4x4f(); var a21 = mat4x4f(); var a22 = mat4x4f(); var a23 = mat4x4f(); var a24 = mat4x4f(); var a25 = mat4x4f(); var a26 = mat4x4f(); var a27 = mat4x4f();
  var a30 = mat4x4f(); var a31 = mat4x4f(); var a32 = mat4x4f(); var a33 = mat4x4f(); var a34 = mat4x4f(); var a35 = mat4x4f(); var a36 = mat4x4f(); var a37 = mat4x4f();
  for (var r = 0u; r < dims.rows; r += 4u) {
    let xRows = rowStarts(r, dims.rows, in4);
    let dyRows = rowStarts(r, dims.rows, dims.outFeatures);
    let keep = inside(r, dims.rows);
    let x0 = maskColumns(xColumns(xRows, i0), keep); let x1 = maskColumns(xColumns(xRows, i1), keep);
    let x2 = maskColumns(xColumns(xRows, i2), keep); let x3 = maskColumns(xColumns(xRows, i3), keep);
    let d0 = transpose(dyColumns(dyRows, o0)); let d1 = transpose(dyColumns(dyRows, o1));
    let x4 = partnerY(x0); let x5 = partnerY(x1); let x6 = partnerY(x2); let x7 = partnerY(x3);
    let d2 = partnerX(d0); let d3 = partnerX(d1);
    a00 += x0 * d0; a01 += x1 * d0; a02 += x2 * d0; a03 += x3 * d0; a04 += x4 * d0; a05 += x5 * d0; a06 += x6 * d0; a07 += x7 * d0;
    a10 += x0 * d1; a11 += x1 * d1; a12 += x2 * d1; a13 += x3 * d1; a14 += x4 * d1; a15 += x5 * d1; a16 += x6 * d1; a17 += x7 * d1;
    a20 += x0 * d2; a21 += x1 * d2; a22 += x2 * d2; a23 += x3 * d2; a24 += x4 * d2; a25 += x5 * d2; a26 += x6 * d2; a27 += x7 * d2;
    a30 += x0 * d3; a31 += x1 * d3; a32 += x2 * d3; a33 += x3 * d3; a34 += x4 * d3; a35 += x5 * d3; a36 += x6 * d3; a37 += x7 * d3;
  }
  return Wide(Block(a00, a01, a10, a11), Block(a20, a21, a30, a31), Block(a02, a03, a12, a13), Block(a22, a23, a32, a33),
              Block(a04, a05, a14, a15), Block(a24, a25, a34, a35), Block(a06, a07, a16, a17), Block(a26, a27, a36, a37));
}
#endif

// ---- bias gradient: db[o] = Σ_r dy[r, o] ----------------------------------------------------
// A workgroup covers BIAS_OUTS outputs × BIAS_SLICES slices of the rows: invocation (o, s) sums rows
// 4s … 4s+3, 4(s + BIAS_SLICES) … and so on, and invocation (o, 0) adds the slices' sums. Four rows per
// step (clamped to the last row, the clamped ones dropped by select): fewer, longer loop iterations,
// 1.2–1.3× less SwiftShader CPU than one row per step (784→128 at batch 64 and 1000).
// src/layers/dense.ts picks the shape: on a GPU 16 × 16, so that no invocation walks a whole batch
// alone; on a CPU adapter one slice of 64 outputs, and then no workgroup memory or barrier (SwiftShader
// took twice the CPU time at batch 64 with them). Splitting the rows over more workgroups there, with a
// second pass to add the pieces as conv2d's bias gradient does, gained nothing either.
const BIAS_OUTS: u32 = ${BIAS_OUTS}u;
const BIAS_SLICES: u32 = ${BIAS_SLICES}u;
#if ${BIAS_SLICED}
var<workgroup> sliceSums: array<f32, BIAS_OUTS * BIAS_SLICES>;
#endif

@compute @workgroup_size(BIAS_OUTS, BIAS_SLICES)
fn bias_grad(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let o = group.x * BIAS_OUTS + local.x;
  // No early return past the last output (the barrier needs every invocation): clamped loads, no store.
  let column = min(o, dims.outFeatures - 1u);
  var sum = vec4f(0.0);
  for (var r = local.y * 4u; r < dims.rows; r += 4u * BIAS_SLICES) {
    let at = rowStarts(r, dims.rows, dims.outFeatures) + column;
    sum += select(vec4f(0.0), vec4f(dy[at.x], dy[at.y], dy[at.z], dy[at.w]), r + vec4u(0u, 1u, 2u, 3u) < vec4u(dims.rows));
  }
#if ${BIAS_SLICED}
  sliceSums[local.y * BIAS_OUTS + local.x] = sum.x + sum.y + sum.z + sum.w;
  workgroupBarrier();
  if (local.y != 0u || o >= dims.outFeatures) { return; }
  var total = 0.0;
  for (var s = 0u; s < BIAS_SLICES; s++) { total += sliceSums[s * BIAS_OUTS + local.x]; }
  dBias[o] = total;
#else
  if (o < dims.outFeatures) { dBias[o] = sum.x + sum.y + sum.z + sum.w; }
#endif
}

// ---- reduce_splits: the sum of the slices' copies (SPLITS > 1) --------------------------------------
// FORWARD_SPLIT: y = f(Σ_s copies + b), the forward's store; otherwise dW = Σ_s copies. One invocation per
// output adds its SPLITS (≤ 64) copies in order.
@group(0) @binding(9) var<storage, read> splitSums: array<f32, ${LEN_splitSums}u>;

@compute @workgroup_size(256)
fn reduce_splits(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.x + id.y * groups.x * 256u;
#if ${FORWARD_SPLIT}
  let n = dims.rows * dims.outFeatures;
#else
  let n = dims.outFeatures * dims.inFeatures;
#endif
  if (i >= n) { return; }
  var sum = 0.0;
  for (var s = 0u; s < SPLITS; s++) { sum += splitSums[s * n + i]; }
#if ${FORWARD_SPLIT}
  y[i] = activate(sum + bias[i % dims.outFeatures]);
#else
  dWeight[i] = sum;
#endif
}

#if ${SUBGROUPS}
enable subgroups;
#endif

// Conv2d (NCHW, square KSIZE×KSIZE kernel, stride STRIDE, zero padding PAD) as three implicit GEMMs:
// im2col is never stored, each product computes the im2col addresses it needs from its loop index.
//
//   x, dx  [batch, CIN, IN_H, IN_W]     weight, dWeight [COUT, CIN, KSIZE, KSIZE]     bias, dBias [COUT]
//   y, dy  [batch, COUT, OUT_H, OUT_W]  dWeightSplits [splits, COUT, CIN·KSIZE²] (partial dWeights)
//   dBiasSplits [splits, COUT, BIAS_THREADS] (partial dBias sums)
//
//   forward          y[co, p]  = Σ_j weight[co, j] · x[n, ci, oh·S − P + kh, ow·S − P + kw] + bias[co]
//                    (p = (n, oh, ow), j = (ci, kh, kw): [COUT × PATCH] · im2col(x)[PATCH × batch·OH·OW])
//   backward-data    dx[ci, q] = Σ_t weight[co, ci, kh, kw] · dy[n, co, oh, ow]   (q = (n, ih, iw), t = (co, kh, kw))
//                    over the outputs with oh·S − P + kh = ih and ow·S − P + kw = iw
//   backward-filter  dW[co, j] = Σ_p dy[n, co, oh, ow] · x[n, ci, oh·S − P + kh, ow·S − P + kw]   (dyᵀ · im2col(x))
//
// Backward-data GATHERS over the outputs that read each input instead of scattering into dx, so every dx
// is written once and no atomics are needed; with stride S only 1/S² of the taps hit an output (the
// strided first layer of a net needs no dx). Backward-filter sums over every position of the batch into
// a few hundred weights, too few outputs to fill the device, so the positions are split over workgroups
// (dWeightSplits) and reduce_splits adds the pieces.
//
// Register blocking: an invocation owns 8 rows (channels) × 8 columns (positions, or kernel taps for
// backward-filter) in 16 vec4 accumulators; per step of the sum it takes 8 row values (weights, or dy
// for backward-filter: the same in every invocation) and loads 8 column values for 64 multiply-adds, and
// splits its index once for both halves of 4 columns. Against 8×4 blocks this measured 1.07× less
// SwiftShader CPU time over cnn-arch1's convolutions (1.1× for backward-filter of the first, 1.02–1.08×
// for the others, bench/cpu-ab.ts); a larger block would pass 64 accumulators, which a GPU would spill.
// Columns are strided (tx, tx + 64, …) so neighbouring invocations read neighbouring addresses. Each sum
// is ONE flat loop whose index is split by constant divisors (geometry is compiled in, one pipeline per
// layer shape; only the batch size travels in `dims`).
//
// Subgroups (SUBGROUPS, set when the device has the `subgroups` feature; the plain loops otherwise): on
// SwiftShader every lane loads the 8 row values one by one although they are the same in all of them, so
// the 4 lanes of a quad each load 2 and take the other 6 by quadBroadcast (sharedRows): 10 loads per step
// instead of 16. CPU time against the plain loops (bench/cpu-ab.ts, least of 11–15 rounds, batch 64 and
// 1000, five runs; an A/A copy read ×0.92–1.08, ×0.98–1.02 in the quietest run): forward ×0.91–0.99 for
// conv 1→16 and ×0.85–0.94 for conv 16→8, backward-data ×0.81–0.91, backward-filter ×0.77–0.95 (mostly
// ×0.83–0.87). subgroupBroadcast from lanes 0–3 measured the same, subgroupShuffle 1.02–1.05× slower.
// Each quad lane loading all 8 rows of one of 4 steps instead (2 vec4 broadcasts a step, the loop
// unrolled by 4) ran forward ×1.15 slower than the plain loop for conv 1→16 and no faster for 16→8.
// The plain loops, which now share their loop bodies (forwardStep, …) with these, measured unchanged.
//
// No workgroup-memory staging, measured on SwiftShader (the CPU adapter the tests run on) at batch 1000:
// a dense.wgsl-style version staging 16×64 tiles (4×4 per invocation) ran the MNIST layers 3–8× slower.
// There a staged value costs a workgroup-memory write, a barrier and a read, no cheaper than the global
// read it replaces, and 8 rows already cover an MNIST layer's channels, so staging would only share what
// every invocation reads as one broadcast. Nested (ci, kh, kw) loops ran 1.3–2× slower than one flat
// loop.

// Fusion (src/graph/sequential.ts): forward stores f(y) when an activation follows the layer, and
// backward-data stores dx·f'(x) when an activation produced x, so those activations need no pass of
// their own; shaders/activate.wgsl holds f and f' (the identity when ACTIVATED is false).
#include activate

struct Dims {
  batch: u32,          // samples in this batch
  splitDepth: u32,     // backward-filter: output positions (n, oh, ow) each split sums over; bias: images
  splits: u32,         // backward-filter: partial dWeights that reduce_splits adds; bias: splits of the batch
}

// The arrays' lengths are those of the bound buffers, compiled in (LEN_x …, see kernel() in
// src/gpu/kernel.ts): the bounds checks then clamp against constants instead of SwiftShader's per-lane
// division for a run-time length, ×0.87–0.98 CPU time over cnn-arch1's convolutions at batch 64 (×0.87
// for conv 1→16's forward, whose loop is shortest) and ×0.88 for the bias gradient.
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(2) var<storage, read> weight: array<f32, ${LEN_weight}u>;
@group(0) @binding(3) var<storage, read> bias: array<f32, ${LEN_bias}u>;
@group(0) @binding(4) var<storage, read_write> y: array<f32, ${LEN_y}u>;
@group(0) @binding(5) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32, ${LEN_dx}u>;
@group(0) @binding(7) var<storage, read_write> dWeightSplits: array<f32, ${LEN_dWeightSplits}u>;
@group(0) @binding(8) var<storage, read_write> dWeight: array<f32, ${LEN_dWeight}u>;
@group(0) @binding(9) var<storage, read_write> dBias: array<f32, ${LEN_dBias}u>;
@group(0) @binding(10) var<storage, read_write> dBiasSplits: array<f32, ${LEN_dBiasSplits}u>;

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

// Flat tap index t = (channel, kh, kw), kw fastest, split into (channel, kh, kw): the channel is the input's
// for forward and backward-filter, the output's for backward-data.
fn splitTap(t: u32) -> vec3u {
  return vec3u(t / KK, (t % KK) / KSIZE, t % KSIZE);
}
const PATCH: u32 = CIN * KK;  // j = (ci, kh, kw): one row of weight
const IN_HW: u32 = IN_H * IN_W;
const OUT_HW: u32 = OUT_H * OUT_W;

const THREADS: u32 = ${THREADS}u;  // invocations per workgroup, along the columns
const ROWS: u32 = 8u;              // rows per invocation (two vec4)
const COLS: u32 = 8u;              // columns per invocation, THREADS apart: two halves of 4

// acc[2c + h] += rows 4h…4h+3 (a[h]) × column c (b[c]): half of the 8×8 register block.
fn accumulate(acc: ptr<function, array<vec4f, 8>>, a0: vec4f, a1: vec4f, b: vec4f) {
  (*acc)[0] = fma(a0, vec4f(b.x), (*acc)[0]);
  (*acc)[1] = fma(a1, vec4f(b.x), (*acc)[1]);
  (*acc)[2] = fma(a0, vec4f(b.y), (*acc)[2]);
  (*acc)[3] = fma(a1, vec4f(b.y), (*acc)[3]);
  (*acc)[4] = fma(a0, vec4f(b.z), (*acc)[4]);
  (*acc)[5] = fma(a1, vec4f(b.z), (*acc)[5]);
  (*acc)[6] = fma(a0, vec4f(b.w), (*acc)[6]);
  (*acc)[7] = fma(a1, vec4f(b.w), (*acc)[7]);
}

// Where rows row … row+7 of a [rows × rowStride] array start, clamped to the last row (a clamped row's
// sums are never stored). Worked out once per invocation, so that each step of a sum only adds its
// column: a bounds check per row and step, as before, measured 1.1–1.3× slower on SwiftShader.
fn rowStarts(row: u32, rows: u32, rowStride: u32) -> array<vec4u, 2> {
  let last = vec4u(rows - 1u);
  return array(min(row + vec4u(0u, 1u, 2u, 3u), last) * rowStride, min(row + vec4u(4u, 5u, 6u, 7u), last) * rowStride);
}

// weight at 8 row starts + offset (dyRows: the same for dy). Unrolled so the values stay in registers
// (a dynamically indexed local array lives in memory on CPU rasterisers).
fn weightRows(starts: array<vec4u, 2>, offset: u32) -> array<vec4f, 2> {
  let a = starts[0] + offset;
  let b = starts[1] + offset;
  return array(vec4f(weight[a.x], weight[a.y], weight[a.z], weight[a.w]), vec4f(weight[b.x], weight[b.y], weight[b.z], weight[b.w]));
}

fn dyRows(starts: array<vec4u, 2>, offset: u32) -> array<vec4f, 2> {
  let a = starts[0] + offset;
  let b = starts[1] + offset;
  return array(vec4f(dy[a.x], dy[a.y], dy[a.z], dy[a.w]), vec4f(dy[b.x], dy[b.y], dy[b.z], dy[b.w]));
}

#if ${SUBGROUPS}
// Every invocation of a workgroup walks the same 8 rows, so each quad of subgroup lanes (4q … 4q+3) can
// share their loads: quad lane k loads rows k and 4 + k (laneRowStarts: where they start, clamped as in
// rowStarts) and sharedRows() hands them to the other three. WGSL does not say how lanes map onto
// invocations, so quadsComplete() checks once that every quad of the subgroup is running (the plain loop
// runs otherwise); which invocations form a quad does not matter, they all want the same rows.
// Called by all lanes; the result is the same in all of them.
fn quadsComplete(lane: u32) -> bool {
  let first = lane & ~3u;
  let live = subgroupBallot(true);
  return subgroupAll(((live[first / 32u] >> (first % 32u)) & 0xFu) == 0xFu);
}

fn laneRowStarts(row: u32, rows: u32, rowStride: u32, lane: u32) -> vec2u {
  return min(row + (lane & 3u) + vec2u(0u, 4u), vec2u(rows - 1u)) * rowStride;
}

// The 8 row values of one step in every lane, as rows 0–3 and 4–7, from each quad lane k's `mine` (rows k,
// 4 + k). Broadcasts from constant lanes, the cheap path in SwiftShader (see the header). Called only under
// `if (quadsComplete(…))`, which is the same in all lanes of the subgroup: WGSL's uniformity analysis
// cannot see that, hence the diagnostic filter.
@diagnostic(off, subgroup_uniformity)
fn sharedRows(mine: vec2f) -> array<vec4f, 2> {
  let k0 = quadBroadcast(mine, 0u);
  let k1 = quadBroadcast(mine, 1u);
  let k2 = quadBroadcast(mine, 2u);
  let k3 = quadBroadcast(mine, 3u);
  return array(vec4f(k0.x, k1.x, k2.x, k3.x), vec4f(k0.y, k1.y, k2.y, k3.y));
}

fn weightPair(starts: vec2u, offset: u32) -> vec2f {
  return vec2f(weight[starts.x + offset], weight[starts.y + offset]);
}

fn dyPair(starts: vec2u, offset: u32) -> vec2f {
  return vec2f(dy[starts.x + offset], dy[starts.y + offset]);
}
#endif

// 4 columns of a block, worked out once per invocation: two coordinates, an offset, where (h, w) is from
// that offset (origin = base + h·IN_W + w; forward and backward-filter, for xAt) and whether the column exists.
struct Columns { h: vec4u, w: vec4u, base: vec4u, origin: vec4u, valid: vec4<bool> }

// x[base + ih·IN_W + iw] of 4 columns, 0 where (ih, iw) is in the padding (wrapped below 0) or the column is not.
// Without padding (PADDED false) nothing is masked: every tap of a real column's receptive field lies in
// the image, and the other columns (positions past the batch in forward, taps past the patch in
// backward-filter) are never stored; the bounds checks keep their loads inside x. That measured ×0.80–0.89 CPU
// time for cnn-arch1's convolutions (neither is padded): fewer values per step for SwiftShader to spill.
// One step's x in 4 columns: at (h + dh, w + dw) of each column's image, `offset` further on.
fn xAt(c: Columns, dh: u32, dw: u32, offset: u32) -> vec4f {
#if ${PADDED}
  let ih = c.h + dh;
  let iw = c.w + dw;
  let inside = c.valid & (ih < vec4u(IN_H)) & (iw < vec4u(IN_W));
  let at = select(vec4u(0u), c.base + offset + ih * IN_W + iw, inside);
  return select(vec4f(0.0), vec4f(x[at.x], x[at.y], x[at.z], x[at.w]), inside);
#else
  let at = c.origin + (offset + dh * IN_W + dw);
  return vec4f(x[at.x], x[at.y], x[at.z], x[at.w]);
#endif
}

// ---------------------------------------------------------------------------------------------------
// forward: rows = output channels, columns = output positions p = (n, oh, ow).

// Columns p, p + THREADS, …: where each receptive field starts (h, w; wrap below 0) and its image.
fn outputColumns(p: u32) -> Columns {
  var c: Columns;
  for (var i = 0u; i < 4u; i++) {
    let q = p + i * THREADS;
    let o = q % OUT_HW;
    c.h[i] = (o / OUT_W) * STRIDE - PAD;
    c.w[i] = (o % OUT_W) * STRIDE - PAD;
    c.base[i] = (q / OUT_HW) * CIN * IN_HW;
    c.valid[i] = q < dims.batch * OUT_HW;
  }
  c.origin = c.base + c.h * IN_W + c.w;
  return c;
}


// One step of forward's sum: tap j = (ci, kh, kw) of the 8 weight rows `w` times x under it in each column.
fn forwardStep(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, lo: Columns, hi: Columns, j: u32, w: array<vec4f, 2>) {
  // im2col(x)[j, columns]: x under tap j of each receptive field.
  let tap = splitTap(j);
  accumulate(accLo, w[0], w[1], xAt(lo, tap.y, tap.z, tap.x * IN_HW));
  accumulate(accHi, w[0], w[1], xAt(hi, tap.y, tap.z, tap.x * IN_HW));
}

@compute @workgroup_size(THREADS)
#if ${SUBGROUPS}
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
#else
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u) {
#endif
  let row = group.z * ROWS;
  let first = (group.x + group.y * groups.x) * THREADS * COLS + local.x;
  let lo = outputColumns(first);
  let hi = outputColumns(first + 4u * THREADS);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
#if ${SUBGROUPS}
  if (quadsComplete(lane)) {
    let mine = laneRowStarts(row, COUT, PATCH, lane);
    for (var j = 0u; j < PATCH; j++) { forwardStep(&accLo, &accHi, lo, hi, j, sharedRows(weightPair(mine, j))); }
  } else {
#else
  {
#endif
    // The plain loop: each lane loads all 8 rows (with SUBGROUPS only when a quad is incomplete).
    let weightStarts = rowStarts(row, COUT, PATCH);
    for (var j = 0u; j < PATCH; j++) { forwardStep(&accLo, &accHi, lo, hi, j, weightRows(weightStarts, j)); }
  }
  // Constant indices only (one call per column, not a loop): a local array indexed at run time anywhere
  // stays in memory on SwiftShader, and every step's multiply-adds then go through it. This measured
  // ×0.88–0.94 CPU time for cnn-arch1's forward, backward-data and backward-filter at batch 64.
  storeY(first + 0u * THREADS, accLo[0], accLo[1], row); storeY(first + 4u * THREADS, accHi[0], accHi[1], row);
  storeY(first + 1u * THREADS, accLo[2], accLo[3], row); storeY(first + 5u * THREADS, accHi[2], accHi[3], row);
  storeY(first + 2u * THREADS, accLo[4], accLo[5], row); storeY(first + 6u * THREADS, accHi[4], accHi[5], row);
  storeY(first + 3u * THREADS, accLo[6], accLo[7], row); storeY(first + 7u * THREADS, accHi[6], accHi[7], row);
}

// y[n, row…row+7, oh, ow] = f(column p of the block + bias).
fn storeY(p: u32, lo: vec4f, hi: vec4f, row: u32) {
  if (p >= dims.batch * OUT_HW) { return; }
  let at = (p / OUT_HW) * COUT * OUT_HW + p % OUT_HW;
  for (var r = 0u; r < ROWS && row + r < COUT; r++) {
    y[at + (row + r) * OUT_HW] = activate(select(hi[r % 4u], lo[r % 4u], r < 4u) + bias[row + r]);
  }
}

// ---------------------------------------------------------------------------------------------------
// backward-data: rows = input channels, columns = input positions q = (n, ih, iw); a gather over the
// (co, kh, kw) whose output oh = (ih + P − kh) / S, ow = (iw + P − kw) / S exists.

// Columns q, q + THREADS, …: ih + P, iw + P and the offset of the image's dy.
fn inputColumns(q: u32) -> Columns {
  var c: Columns;
  for (var i = 0u; i < 4u; i++) {
    let r = q + i * THREADS;
    let at = r % IN_HW;
    c.h[i] = at / IN_W + PAD;
    c.w[i] = at % IN_W + PAD;
    c.base[i] = (r / IN_HW) * COUT * OUT_HW;
    c.valid[i] = r < dims.batch * IN_HW;
  }
  return c;
}

// dy[co, oh, ow] that tap (co, kh, kw) takes to each input column, 0 where there is no such output
// (channel = co · OUT_HW).
fn dyAt(c: Columns, kh: u32, kw: u32, channel: u32) -> vec4f {
  let ohS = c.h - kh;  // oh·S; wraps (so oh ≥ OUT_H) when negative
  let owS = c.w - kw;
#if ${STRIDED}
  let oh = ohS / STRIDE;
  let ow = owS / STRIDE;
  let inside = c.valid & (oh < vec4u(OUT_H)) & (ow < vec4u(OUT_W)) & (ohS % STRIDE == vec4u(0u)) & (owS % STRIDE == vec4u(0u));
#else
  // Stride 1: every tap hits an output; SwiftShader would still divide by 1 per lane (×0.87 CPU without, conv 16→8).
  let oh = ohS;
  let ow = owS;
  let inside = c.valid & (oh < vec4u(OUT_H)) & (ow < vec4u(OUT_W));
#endif
  let at = select(vec4u(0u), c.base + channel + oh * OUT_W + ow, inside);
  return select(vec4f(0.0), vec4f(dy[at.x], dy[at.y], dy[at.z], dy[at.w]), inside);
}

// One step of backward-data's gather: tap t = (co, kh, kw) of the 8 weight rows `w` times the dy it takes
// to each column.
fn dataStep(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, lo: Columns, hi: Columns, t: u32, w: array<vec4f, 2>) {
  let tap = splitTap(t);
  accumulate(accLo, w[0], w[1], dyAt(lo, tap.y, tap.z, tap.x * OUT_HW));
  accumulate(accHi, w[0], w[1], dyAt(hi, tap.y, tap.z, tap.x * OUT_HW));
}

// weight[co, ci, kh, kw] of tap t = (co, kh, kw), from where row ci starts.
fn tapOffset(t: u32) -> u32 {
  return (t / KK) * PATCH + t % KK;
}

@compute @workgroup_size(THREADS)
#if ${SUBGROUPS}
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
#else
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u) {
#endif
  let row = group.z * ROWS;
  let first = (group.x + group.y * groups.x) * THREADS * COLS + local.x;
  let lo = inputColumns(first);
  let hi = inputColumns(first + 4u * THREADS);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
#if ${SUBGROUPS}
  if (quadsComplete(lane)) {
    let mine = laneRowStarts(row, CIN, KK, lane);
    for (var t = 0u; t < COUT * KK; t++) { dataStep(&accLo, &accHi, lo, hi, t, sharedRows(weightPair(mine, tapOffset(t)))); }
  } else {
#else
  {
#endif
    let weightStarts = rowStarts(row, CIN, KK);
    for (var t = 0u; t < COUT * KK; t++) { dataStep(&accLo, &accHi, lo, hi, t, weightRows(weightStarts, tapOffset(t))); }
  }
  storeDx(first + 0u * THREADS, accLo[0], accLo[1], row); storeDx(first + 4u * THREADS, accHi[0], accHi[1], row);
  storeDx(first + 1u * THREADS, accLo[2], accLo[3], row); storeDx(first + 5u * THREADS, accHi[2], accHi[3], row);
  storeDx(first + 2u * THREADS, accLo[4], accLo[5], row); storeDx(first + 6u * THREADS, accHi[4], accHi[5], row);
  storeDx(first + 3u * THREADS, accLo[6], accLo[7], row); storeDx(first + 7u * THREADS, accHi[6], accHi[7], row);
}

fn storeDx(q: u32, lo: vec4f, hi: vec4f, row: u32) {
  if (q >= dims.batch * IN_HW) { return; }
  let at = (q / IN_HW) * CIN * IN_HW + q % IN_HW;
  for (var r = 0u; r < ROWS && row + r < CIN; r++) {
    let i = at + (row + r) * IN_HW;
    dx[i] = select(hi[r % 4u], lo[r % 4u], r < 4u) * inputSlope(i);
  }
}

// f' of the activation that produced x, at x[i], when its backward is fused into this store (ACTIVATED);
// 1 otherwise, and x is not read.
fn inputSlope(i: u32) -> f32 {
#if ${ACTIVATED}
  return slope(x[i]);
#else
  return 1.0;
#endif
}

// ---------------------------------------------------------------------------------------------------
// backward-filter: rows = output channels, columns = kernel taps j = (ci, kh, kw); workgroup z picks the
// row block and the split, a range of output positions p = (n, oh, ow) it sums over.

const ROW_BLOCKS: u32 = (COUT + ROWS - 1u) / ROWS;

// Columns j, j + THREADS, …: the tap's (kh, kw) and its input channel's offset.
fn tapColumns(j: u32) -> Columns {
  var c: Columns;
  for (var i = 0u; i < 4u; i++) {
    let k = j + i * THREADS;
    let tap = splitTap(k);
    c.h[i] = tap.y;
    c.w[i] = tap.z;
    c.base[i] = tap.x * IN_HW;
    c.valid[i] = k < PATCH;
  }
  c.origin = c.base + c.h * IN_W + c.w;
  return c;
}


// One step of backward-filter's sum: output position p of the 8 dy rows `g` times x under each tap column.
fn filterStep(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, lo: Columns, hi: Columns, p: u32, g: array<vec4f, 2>) {
  // im2col(x)[columns, p]: x under each tap of the receptive field of output position p.
  let o = p % OUT_HW;
  let ih0 = (o / OUT_W) * STRIDE - PAD;  // wraps below 0
  let iw0 = (o % OUT_W) * STRIDE - PAD;
  let image = (p / OUT_HW) * CIN * IN_HW;
  accumulate(accLo, g[0], g[1], xAt(lo, ih0, iw0, image));
  accumulate(accHi, g[0], g[1], xAt(hi, ih0, iw0, image));
}

// dy[n, co, oh, ow] of output position p = (n, oh, ow), from where row co of the first image starts.
fn positionOffset(p: u32) -> u32 {
  return (p / OUT_HW) * COUT * OUT_HW + p % OUT_HW;
}

@compute @workgroup_size(THREADS)
#if ${SUBGROUPS}
fn backward_filter(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
#else
fn backward_filter(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
#endif
  let row = (group.z % ROW_BLOCKS) * ROWS;
  let split = group.z / ROW_BLOCKS;
  let first = group.x * THREADS * COLS + local.x;
  let lo = tapColumns(first);
  let hi = tapColumns(first + 4u * THREADS);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  let start = split * dims.splitDepth;
  let end = min(dims.batch * OUT_HW, start + dims.splitDepth);
#if ${SUBGROUPS}
  if (quadsComplete(lane)) {
    let mine = laneRowStarts(row, COUT, OUT_HW, lane);
    for (var p = start; p < end; p++) { filterStep(&accLo, &accHi, lo, hi, p, sharedRows(dyPair(mine, positionOffset(p)))); }
  } else {
#else
  {
#endif
    let dyStarts = rowStarts(row, COUT, OUT_HW);
    for (var p = start; p < end; p++) { filterStep(&accLo, &accHi, lo, hi, p, dyRows(dyStarts, positionOffset(p))); }
  }
  let at = split * COUT * PATCH;
  storeDWeight(at, first + 0u * THREADS, accLo[0], accLo[1], row); storeDWeight(at, first + 4u * THREADS, accHi[0], accHi[1], row);
  storeDWeight(at, first + 1u * THREADS, accLo[2], accLo[3], row); storeDWeight(at, first + 5u * THREADS, accHi[2], accHi[3], row);
  storeDWeight(at, first + 2u * THREADS, accLo[4], accLo[5], row); storeDWeight(at, first + 6u * THREADS, accHi[4], accHi[5], row);
  storeDWeight(at, first + 3u * THREADS, accLo[6], accLo[7], row); storeDWeight(at, first + 7u * THREADS, accHi[6], accHi[7], row);
}

fn storeDWeight(at: u32, j: u32, lo: vec4f, hi: vec4f, row: u32) {
  if (j >= PATCH) { return; }
  for (var r = 0u; r < ROWS && row + r < COUT; r++) {
    dWeightSplits[at + (row + r) * PATCH + j] = select(hi[r % 4u], lo[r % 4u], r < 4u);
  }
}

// dWeight = Σ_split dWeightSplits[split]. A workgroup covers REDUCE_WEIGHTS weights × REDUCE_SLICES slices
// of the splits (x·y folded past 65,535 groups): invocation (w, s) sums splits s, s + REDUCE_SLICES, …, and
// invocation (w, 0) adds the slices' sums. src/layers/conv2d.ts picks the shape: a CPU adapter walks all
// splits in one invocation per weight, with no workgroup memory or barrier (REDUCE_SLICED false); a GPU,
// with several times more splits, slices them 16 ways, since one invocation walking them alone waits on
// one load after another (an H100 took 3.5 ms for two layers' 512–3,125 splits).
const REDUCE_WEIGHTS: u32 = ${REDUCE_WEIGHTS}u;
const REDUCE_SLICES: u32 = ${REDUCE_SLICES}u;
#if ${REDUCE_SLICED}
var<workgroup> sliceSums: array<f32, REDUCE_WEIGHTS * REDUCE_SLICES>;
#endif

@compute @workgroup_size(REDUCE_WEIGHTS, REDUCE_SLICES)
fn reduce_splits(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
                 @builtin(local_invocation_id) local: vec3u) {
  let i = (group.x + group.y * groups.x) * REDUCE_WEIGHTS + local.x;
  let weight = min(i, COUT * PATCH - 1u);  // past the last weight: clamped loads, no store
  var sum = 0.0;
  for (var s = local.y; s < dims.splits; s += REDUCE_SLICES) { sum += dWeightSplits[s * COUT * PATCH + weight]; }
#if ${REDUCE_SLICED}
  sliceSums[local.y * REDUCE_WEIGHTS + local.x] = sum;
  workgroupBarrier();
  if (local.y != 0u) { return; }
  for (var s = 1u; s < REDUCE_SLICES; s++) { sum += sliceSums[s * REDUCE_WEIGHTS + local.x]; }
#endif
  if (i < COUT * PATCH) { dWeight[i] = sum; }
}

// ---------------------------------------------------------------------------------------------------
// bias gradient: dBias[co] = Σ_{n, oh, ow} dy[n, co, oh, ow], in two passes. bias_partials: workgroup
// (split, co) sums the images of its split (splitDepth of them), each invocation writing its own partial
// sum to dBiasSplits[split, co, invocation]; bias_reduce then adds each channel's partial sums in a fixed
// order, so the result is the same every run (no float atomics).
//
// On SwiftShader (bench/cpu-ab.ts, cnn-arch1's convolutions at batch 64 and 1000) this took 2.3–2.6× less
// CPU than one workgroup of 64 per channel with a division per element and a workgroup-memory tree. The
// loads (each lane loads its value separately) are 60% of what is left at batch 1000, 40% at batch 64 (a
// probe without them). Measured along the way: 4 positions per step ran 1.7–2× faster than 1 (8 or 16
// were no faster); a workgroup-memory tree over the partial sums made the whole kernel 1.3–1.8× (batch
// 1000) to 2.6–2.9× (batch 64) slower, since SwiftShader runs a workgroup with barriers as one coroutine
// per 4 invocations.

const BIAS_THREADS: u32 = 64u;
// An invocation visits its split's positions (n, o) BIAS_THREADS apart, 4 per step as the slots of a
// vec4. Each slot carries its image n and position o; a step moves it 4·BIAS_THREADS positions on, that
// is STEP_IMAGES images and STEP_POSITIONS positions, so the loop divides nothing.
const STEP_IMAGES: u32 = 4u * BIAS_THREADS / OUT_HW;
const STEP_POSITIONS: u32 = 4u * BIAS_THREADS % OUT_HW;

struct Slots { n: vec4u, o: vec4u }

// Positions p, p + BIAS_THREADS, p + 2·BIAS_THREADS, p + 3·BIAS_THREADS from the start of `image`.
fn slotsAt(image: u32, p: u32) -> Slots {
  let q = p + vec4u(0u, 1u, 2u, 3u) * BIAS_THREADS;
  return Slots(image + q / OUT_HW, q % OUT_HW);
}

fn nextSlots(s: Slots) -> Slots {
  let o = s.o + STEP_POSITIONS;
  let wrap = o >= vec4u(OUT_HW);
  return Slots(s.n + STEP_IMAGES + select(vec4u(0u), vec4u(1u), wrap), select(o, o - OUT_HW, wrap));
}

// dy[n, co, o] of the 4 slots, 0 for those at or past image `end`.
fn dySlots(s: Slots, co: u32, end: u32) -> vec4f {
  let inside = s.n < vec4u(end);
  let at = select(vec4u(0u), (s.n * COUT + co) * OUT_HW + s.o, inside);
  return select(vec4f(0.0), vec4f(dy[at.x], dy[at.y], dy[at.z], dy[at.w]), inside);
}

@compute @workgroup_size(BIAS_THREADS)
fn bias_partials(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) thread: u32) {
  let split = group.x;
  let co = group.y;
  let first = split * dims.splitDepth;
  let end = min(dims.batch, first + dims.splitDepth);
  var slots = slotsAt(first, thread);
  var sum = vec4f(0.0);
  while (slots.n.x < end) {  // slot x is the invocation's earliest
    sum += dySlots(slots, co, end);
    slots = nextSlots(slots);
  }
  dBiasSplits[(split * COUT + co) * BIAS_THREADS + thread] = sum.x + sum.y + sum.z + sum.w;
}

// dBias[co] = Σ dBiasSplits[split, co, invocation]. On a CPU adapter one invocation per channel walks them
// all; on a GPU (REDUCE_SLICED) a workgroup per channel, invocation t summing the t-th partial of every
// split (neighbouring invocations, neighbouring addresses) and invocation 0 adding those.
#if ${REDUCE_SLICED}
var<workgroup> threadSums: array<f32, BIAS_THREADS>;

@compute @workgroup_size(BIAS_THREADS)
fn bias_reduce(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) t: u32) {
  let co = group.x;
  var sum = 0.0;
  for (var s = 0u; s < dims.splits; s++) { sum += dBiasSplits[(s * COUT + co) * BIAS_THREADS + t]; }
  threadSums[t] = sum;
  workgroupBarrier();
  if (t != 0u) { return; }
  for (var u = 1u; u < BIAS_THREADS; u++) { sum += threadSums[u]; }
  dBias[co] = sum;
}
#else
@compute @workgroup_size(64)
fn bias_reduce(@builtin(global_invocation_id) id: vec3u) {
  let co = id.x;
  if (co >= COUT) { return; }
  var sum = 0.0;
  for (var s = 0u; s < dims.splits; s++) {
    for (var t = 0u; t < BIAS_THREADS; t++) { sum += dBiasSplits[(s * COUT + co) * BIAS_THREADS + t]; }
  }
  dBias[co] = sum;
}
#endif

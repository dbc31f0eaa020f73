// conv2d's register blocks (`#include conv2d_blocks`), shared by rung 2 (shaders/conv2d_2_blocks.wgsl) and
// rung 3 (conv2d_3_subgroups.wgsl): the three products as implicit GEMMs whose im2col is never stored,
// each step of a sum working out the im2col addresses it needs from its loop index.
//
//   forward          rows = output channels, columns = output positions p = (n, oh, ow), sum over taps j = (ci, kh, kw)
//   backward-data    rows = input channels, columns = input positions q = (n, ih, iw), gather over taps t = (co, kh, kw)
//   backward-filter  rows = output channels, columns = taps j, sum over a split of the output positions p
//
// An invocation owns 8 rows × 8 columns in 16 vec4 accumulators (accLo: columns 0–3, accHi: 4–7); per
// step it takes 8 row values (weights, or dy for backward-filter: the same in every invocation of the
// workgroup) and loads 8 column values for 64 multiply-adds. Columns are strided (c, c + THREADS, …) so
// neighbouring invocations read neighbouring addresses. Each sum is ONE flat loop whose index is split
// by constant divisors. forwardSum, dataSum and filterSum are those loops with each invocation loading its
// own 8 rows: all of rung 2, and rung 3's fallback. The includer declares the buffers (x, weight, bias, y,
// dy, dx, dWeightSplits).

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
// column instead of checking 8 bounds.
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

// 4 columns of a block, worked out once per invocation: two coordinates, an offset, where (h, w) is from
// that offset (origin = base + h·IN_W + w; forward and backward-filter, for xAt) and whether the column exists.
struct Columns { h: vec4u, w: vec4u, base: vec4u, origin: vec4u, valid: vec4<bool> }

// An invocation's block, from the workgroup grid the policy dispatches: rows row … row+7 and columns first,
// first + THREADS, … (lo: the first 4, hi: the other 4).
struct BlockPlace { row: u32, first: u32, lo: Columns, hi: Columns }

// x[base + ih·IN_W + iw] of 4 columns, 0 where (ih, iw) is in the padding (wrapped below 0) or the column is not.
// Without padding (PADDED false) nothing is masked: every tap of a real column's receptive field lies in
// the image, and the other columns (positions past the batch in forward, taps past the patch in
// backward-filter) are never stored; the bounds checks keep their loads inside x. Fewer values per step
// for SwiftShader to spill.
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

// Forward's block: workgroup z picks 8 output channels, x·y a run of THREADS × 8 output positions.
fn outputBlock(group: vec3u, groups: vec3u, local: u32) -> BlockPlace {
  let first = (group.x + group.y * groups.x) * THREADS * COLS + local;
  return BlockPlace(group.z * ROWS, first, outputColumns(first), outputColumns(first + 4u * THREADS));
}

// One step of forward's sum: tap j = (ci, kh, kw) of the 8 weight rows `w` times x under it in each column.
fn forwardStep(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, lo: Columns, hi: Columns, j: u32, w: array<vec4f, 2>) {
  // im2col(x)[j, columns]: x under tap j of each receptive field.
  let tap = splitTap(j);
  accumulate(accLo, w[0], w[1], xAt(lo, tap.y, tap.z, tap.x * IN_HW));
  accumulate(accHi, w[0], w[1], xAt(hi, tap.y, tap.z, tap.x * IN_HW));
}

// Forward's sum over every tap j.
fn forwardSum(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, block: BlockPlace) {
  let weightStarts = rowStarts(block.row, COUT, PATCH);
  for (var j = 0u; j < PATCH; j++) { forwardStep(accLo, accHi, block.lo, block.hi, j, weightRows(weightStarts, j)); }
}

// y[n, row…row+7, oh, ow] = f(column p of the block + bias).
fn storeY(p: u32, lo: vec4f, hi: vec4f, row: u32) {
  if (p >= dims.batch * OUT_HW) { return; }
  let at = (p / OUT_HW) * COUT * OUT_HW + p % OUT_HW;
  for (var r = 0u; r < ROWS && row + r < COUT; r++) {
    y[at + (row + r) * OUT_HW] = activate(select(hi[r % 4u], lo[r % 4u], r < 4u) + bias[row + r]);
  }
}

// The block's 8 columns of y. Constant indices only (one call per column, not a loop): a local array
// indexed at run time anywhere stays in memory on SwiftShader, and every step's multiply-adds then go
// through it.
fn storeYBlock(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, block: BlockPlace) {
  let first = block.first;
  let row = block.row;
  storeY(first + 0u * THREADS, (*accLo)[0], (*accLo)[1], row); storeY(first + 4u * THREADS, (*accHi)[0], (*accHi)[1], row);
  storeY(first + 1u * THREADS, (*accLo)[2], (*accLo)[3], row); storeY(first + 5u * THREADS, (*accHi)[2], (*accHi)[3], row);
  storeY(first + 2u * THREADS, (*accLo)[4], (*accLo)[5], row); storeY(first + 6u * THREADS, (*accHi)[4], (*accHi)[5], row);
  storeY(first + 3u * THREADS, (*accLo)[6], (*accLo)[7], row); storeY(first + 7u * THREADS, (*accHi)[6], (*accHi)[7], row);
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

// Backward-data's block: workgroup z picks 8 input channels, x·y a run of THREADS × 8 input positions.
fn inputBlock(group: vec3u, groups: vec3u, local: u32) -> BlockPlace {
  let first = (group.x + group.y * groups.x) * THREADS * COLS + local;
  return BlockPlace(group.z * ROWS, first, inputColumns(first), inputColumns(first + 4u * THREADS));
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
  // Stride 1: every tap hits an output; SwiftShader would still divide by 1 per lane.
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

// Backward-data's gather over every tap t.
fn dataSum(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, block: BlockPlace) {
  let weightStarts = rowStarts(block.row, CIN, KK);
  for (var t = 0u; t < COUT * KK; t++) { dataStep(accLo, accHi, block.lo, block.hi, t, weightRows(weightStarts, tapOffset(t))); }
}

// dx[n, row…row+7, ih, iw] = column q of the block · f'(x) (inputSlope, shaders/conv2d_common.wgsl).
fn storeDx(q: u32, lo: vec4f, hi: vec4f, row: u32) {
  if (q >= dims.batch * IN_HW) { return; }
  let at = (q / IN_HW) * CIN * IN_HW + q % IN_HW;
  for (var r = 0u; r < ROWS && row + r < CIN; r++) {
    let i = at + (row + r) * IN_HW;
    dx[i] = select(hi[r % 4u], lo[r % 4u], r < 4u) * inputSlope(i);
  }
}

// The block's 8 columns of dx, at constant indices as in storeYBlock.
fn storeDxBlock(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, block: BlockPlace) {
  let first = block.first;
  let row = block.row;
  storeDx(first + 0u * THREADS, (*accLo)[0], (*accLo)[1], row); storeDx(first + 4u * THREADS, (*accHi)[0], (*accHi)[1], row);
  storeDx(first + 1u * THREADS, (*accLo)[2], (*accLo)[3], row); storeDx(first + 5u * THREADS, (*accHi)[2], (*accHi)[3], row);
  storeDx(first + 2u * THREADS, (*accLo)[4], (*accLo)[5], row); storeDx(first + 6u * THREADS, (*accHi)[4], (*accHi)[5], row);
  storeDx(first + 3u * THREADS, (*accLo)[6], (*accLo)[7], row); storeDx(first + 7u * THREADS, (*accHi)[6], (*accHi)[7], row);
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

// Backward-filter's block: workgroup z picks 8 output channels (and a split of the batch, splitOf), x a
// run of THREADS × 8 taps.
fn tapBlock(group: vec3u, local: u32) -> BlockPlace {
  let first = group.x * THREADS * COLS + local;
  return BlockPlace((group.z % ROW_BLOCKS) * ROWS, first, tapColumns(first), tapColumns(first + 4u * THREADS));
}

// Which split of the batch workgroup z sums over (tapBlock takes its channels from the same z).
fn splitOf(group: vec3u) -> u32 {
  return group.z / ROW_BLOCKS;
}

// The output positions [x, y) that split `split` of the batch sums over.
fn splitPositions(split: u32) -> vec2u {
  let start = split * dims.splitDepth;
  return vec2u(start, min(dims.batch * OUT_HW, start + dims.splitDepth));
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

// Backward-filter's sum over output positions [positions.x, positions.y).
fn filterSum(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, block: BlockPlace, positions: vec2u) {
  let dyStarts = rowStarts(block.row, COUT, OUT_HW);
  for (var p = positions.x; p < positions.y; p++) { filterStep(accLo, accHi, block.lo, block.hi, p, dyRows(dyStarts, positionOffset(p))); }
}

// Split `at`'s partial dWeight[row…row+7, j] (dWeight itself when the batch is not split).
fn storeDWeight(at: u32, j: u32, lo: vec4f, hi: vec4f, row: u32) {
  if (j >= PATCH) { return; }
  for (var r = 0u; r < ROWS && row + r < COUT; r++) {
    dWeightSplits[at + (row + r) * PATCH + j] = select(hi[r % 4u], lo[r % 4u], r < 4u);
  }
}

// The block's 8 columns of split `at`'s dWeight, at constant indices as in storeYBlock.
fn storeDWeightBlock(accLo: ptr<function, array<vec4f, 8>>, accHi: ptr<function, array<vec4f, 8>>, at: u32, block: BlockPlace) {
  let first = block.first;
  let row = block.row;
  storeDWeight(at, first + 0u * THREADS, (*accLo)[0], (*accLo)[1], row); storeDWeight(at, first + 4u * THREADS, (*accHi)[0], (*accHi)[1], row);
  storeDWeight(at, first + 1u * THREADS, (*accLo)[2], (*accLo)[3], row); storeDWeight(at, first + 5u * THREADS, (*accHi)[2], (*accHi)[3], row);
  storeDWeight(at, first + 2u * THREADS, (*accLo)[4], (*accLo)[5], row); storeDWeight(at, first + 6u * THREADS, (*accHi)[4], (*accHi)[5], row);
  storeDWeight(at, first + 3u * THREADS, (*accLo)[6], (*accLo)[7], row); storeDWeight(at, first + 7u * THREADS, (*accHi)[6], (*accHi)[7], row);
}

enable subgroups;

// conv2d, rung 4: row windows. Rung 3 loads every column value of every step, although a convolution's
// neighbouring columns read overlapping x (or dy): the value under tap kw of output column ow is the one
// under tap kw + S of column ow − 1. Here an invocation's columns come in windows of 4 neighbours along a
// row, and stepping the window along a row keeps 3 of its values and loads one (or S): a window costs
// (K + 3S)/K column loads per tap instead of 4 (forward), 1 per output position (backward-filter, S = 1).
// EXPERIMENT, NOT TAKEN: on SwiftShader it ran 0.91–1.47× rung 3's CPU time (docs/perf/conv2d.md).
//   forward          windows of 4 output columns (n, oh, ow…ow+3); the sum walks (ci, kh), then kw in S
//                    phases, the window sliding one column per step of S taps
//   backward-data    windows of 4 input columns (n, ih, iw…iw+3), stride 1 only; kw slides it the other way
//   backward-filter  windows of 4 taps (ci, kh, kw…kw+3); the sum walks output rows, and ow slides it by S
// Why it pays on a CPU adapter only: loads set the pace there (one lane at a time), and 16 columns of
// accumulators spill to the stack, which a CPU's cache absorbs and a GPU's registers would not; the policy
// gives it CPU shapes. docs/perf/conv2d.md, rung 4.

#include activate
#include conv2d_common
#include conv2d_blocks
#include conv2d_block_bindings
#include conv2d_quad_rows

const WINDOWS: u32 = 4u;  // windows per invocation, THREADS apart
const PHASES: u32 = min(STRIDE, KSIZE);  // forward: runs of taps kw = phase, phase + S, …
const OUT_WINDOWS: u32 = (OUT_W + 3u) / 4u;  // windows per output row (forward)
const IN_WINDOWS: u32 = (IN_W + 3u) / 4u;    // windows per input row (backward-data)
const TAP_WINDOWS: u32 = (KSIZE + 3u) / 4u;  // windows per kernel row (backward-filter)

// A window: where its 4 columns read (at, and h, w for the padding), the flat index of its column 0 and how
// many of its columns exist (0 past the batch or the taps).
struct Window { at: u32, h: u32, w: u32, first: u32, width: u32 }

// One step of a sum: the 8 row values `w` times each window's 4 columns. No branch in a step: on SwiftShader
// control flow inside the loops of a sum cost more than the loads the windows save (docs/perf/conv2d.md).
fn windowStep(a0: ptr<function, array<vec4f, 8>>, a1: ptr<function, array<vec4f, 8>>, a2: ptr<function, array<vec4f, 8>>,
              a3: ptr<function, array<vec4f, 8>>, w: array<vec4f, 2>, c0: vec4f, c1: vec4f, c2: vec4f, c3: vec4f) {
  accumulate(a0, w[0], w[1], c0); accumulate(a1, w[0], w[1], c1);
  accumulate(a2, w[0], w[1], c2); accumulate(a3, w[0], w[1], c3);
}

// ---------------------------------------------------------------------------------------------------
// forward: window g covers output columns (n, oh, ow…ow+3); x under tap (ci, kh, kw) of column c is at
// (oh·S − P + kh, ow·S − P + kw + c·S), so the window at kw + S is this one's columns 1–3 and one more.

fn outputWindow(g: u32) -> Window {
  let outRow = g / OUT_WINDOWS;  // n·OUT_H + oh
  let ow = (g % OUT_WINDOWS) * 4u;
  let n = outRow / OUT_H;
  var v: Window;
  v.h = (outRow % OUT_H) * STRIDE - PAD;  // wraps below 0
  v.w = ow * STRIDE - PAD;
  v.at = n * CIN * IN_HW + v.h * IN_W + v.w;
  v.first = outRow * OUT_W + ow;
  v.width = select(0u, min(4u, OUT_W - ow), n < dims.batch);
  return v;
}

// x under tap (channel offset, kh, kw) of column c, 0 in the padding.
fn xIn(v: Window, channel: u32, kh: u32, kw: u32, c: u32) -> f32 {
  let at = v.at + channel + kh * IN_W + kw + c * STRIDE;
#if ${PADDED}
  let inside = (v.h + kh < IN_H) & (v.w + kw + c * STRIDE < IN_W);
  return select(0.0, x[select(0u, at, inside)], inside);
#else
  return x[at];
#endif
}

fn xWindow(v: Window, channel: u32, kh: u32, kw: u32) -> vec4f {
  return vec4f(xIn(v, channel, kh, kw, 0u), xIn(v, channel, kh, kw, 1u), xIn(v, channel, kh, kw, 2u), xIn(v, channel, kh, kw, 3u));
}

// The window at tap kw from the one at kw − S: one load instead of four.
fn slideX(old: vec4f, v: Window, channel: u32, kh: u32, kw: u32) -> vec4f {
  return vec4f(old.yzw, xIn(v, channel, kh, kw, 3u));
}

fn storeWindowY(v: Window, acc: array<vec4f, 8>, row: u32) {
  if (v.width > 0u) { storeY(v.first, acc[0], acc[1], row); }
  if (v.width > 1u) { storeY(v.first + 1u, acc[2], acc[3], row); }
  if (v.width > 2u) { storeY(v.first + 2u, acc[4], acc[5], row); }
  if (v.width > 3u) { storeY(v.first + 3u, acc[6], acc[7], row); }
}

// Workgroup z: a block of 8 output channels; x·y: THREADS × 4 windows of 4 output columns.
@compute @workgroup_size(THREADS)
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let row = group.z * ROWS;
  let g = (group.x + group.y * groups.x) * THREADS * WINDOWS + local.x;
  let v0 = outputWindow(g); let v1 = outputWindow(g + THREADS); let v2 = outputWindow(g + 2u * THREADS); let v3 = outputWindow(g + 3u * THREADS);
  var acc0: array<vec4f, 8>; var acc1: array<vec4f, 8>; var acc2: array<vec4f, 8>; var acc3: array<vec4f, 8>;
  let mine = laneRowStarts(row, COUT, PATCH, lane);
  // Runs of taps kw = phase, phase + S, … of each kernel row r = (ci, kh): two loops, not three (a third level
  // of loops cost SwiftShader more than the loads it saves).
  for (var run = 0u; run < CIN * KSIZE * PHASES; run++) {
    let r = run / PHASES;
    let phase = run % PHASES;
    let channel = (r / KSIZE) * IN_HW;
    let kh = r % KSIZE;
    var x0 = xWindow(v0, channel, kh, phase); var x1 = xWindow(v1, channel, kh, phase);
    var x2 = xWindow(v2, channel, kh, phase); var x3 = xWindow(v3, channel, kh, phase);
    windowStep(&acc0, &acc1, &acc2, &acc3, sharedRows(weightPair(mine, r * KSIZE + phase)), x0, x1, x2, x3);
    for (var kw = phase + STRIDE; kw < KSIZE; kw += STRIDE) {
      x0 = slideX(x0, v0, channel, kh, kw); x1 = slideX(x1, v1, channel, kh, kw);
      x2 = slideX(x2, v2, channel, kh, kw); x3 = slideX(x3, v3, channel, kh, kw);
      windowStep(&acc0, &acc1, &acc2, &acc3, sharedRows(weightPair(mine, r * KSIZE + kw)), x0, x1, x2, x3);
    }
  }
  storeWindowY(v0, acc0, row); storeWindowY(v1, acc1, row); storeWindowY(v2, acc2, row); storeWindowY(v3, acc3, row);
}

// ---------------------------------------------------------------------------------------------------
// backward-data (stride 1): window g covers input columns (n, ih, iw…iw+3); tap (co, kh, kw) takes to
// column c the dy at (ih + P − kh, iw + P − kw + c), so the window at kw + 1 is a new column 0 and this
// one's columns 0–2.

fn inputWindow(g: u32) -> Window {
  let inRow = g / IN_WINDOWS;  // n·IN_H + ih
  let iw = (g % IN_WINDOWS) * 4u;
  let n = inRow / IN_H;
  var v: Window;
  v.h = inRow % IN_H + PAD;
  v.w = iw + PAD;
  v.at = n * COUT * OUT_HW;
  v.first = inRow * IN_W + iw;
  v.width = select(0u, min(4u, IN_W - iw), n < dims.batch);
  return v;
}

// dy that tap (channel offset, kh, kw) takes to column c, 0 where there is no such output.
fn dyIn(v: Window, channel: u32, kh: u32, kw: u32, c: u32) -> f32 {
  let oh = v.h - kh;  // wraps (so ≥ OUT_H) when negative
  let ow = v.w + c - kw;
  let inside = (oh < OUT_H) & (ow < OUT_W);
  return select(0.0, dy[select(0u, v.at + channel + oh * OUT_W + ow, inside)], inside);
}

fn dyWindow(v: Window, channel: u32, kh: u32) -> vec4f {
  return vec4f(dyIn(v, channel, kh, 0u, 0u), dyIn(v, channel, kh, 0u, 1u), dyIn(v, channel, kh, 0u, 2u), dyIn(v, channel, kh, 0u, 3u));
}

fn storeWindowDx(v: Window, acc: array<vec4f, 8>, row: u32) {
  if (v.width > 0u) { storeDx(v.first, acc[0], acc[1], row); }
  if (v.width > 1u) { storeDx(v.first + 1u, acc[2], acc[3], row); }
  if (v.width > 2u) { storeDx(v.first + 2u, acc[4], acc[5], row); }
  if (v.width > 3u) { storeDx(v.first + 3u, acc[6], acc[7], row); }
}

// Workgroup z: a block of 8 input channels; x·y: THREADS × 4 windows of 4 input columns.
@compute @workgroup_size(THREADS)
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let row = group.z * ROWS;
  let g = (group.x + group.y * groups.x) * THREADS * WINDOWS + local.x;
  let v0 = inputWindow(g); let v1 = inputWindow(g + THREADS); let v2 = inputWindow(g + 2u * THREADS); let v3 = inputWindow(g + 3u * THREADS);
  var acc0: array<vec4f, 8>; var acc1: array<vec4f, 8>; var acc2: array<vec4f, 8>; var acc3: array<vec4f, 8>;
  let mine = laneRowStarts(row, CIN, KK, lane);
  for (var r = 0u; r < COUT * KSIZE; r++) {
    let channel = (r / KSIZE) * OUT_HW;
    let kh = r % KSIZE;
    let tap = (r / KSIZE) * PATCH + kh * KSIZE;  // weight[co, ·, kh, 0] from where row ci starts
    var d0 = dyWindow(v0, channel, kh); var d1 = dyWindow(v1, channel, kh);
    var d2 = dyWindow(v2, channel, kh); var d3 = dyWindow(v3, channel, kh);
    windowStep(&acc0, &acc1, &acc2, &acc3, sharedRows(weightPair(mine, tap)), d0, d1, d2, d3);
    for (var kw = 1u; kw < KSIZE; kw++) {
      d0 = vec4f(dyIn(v0, channel, kh, kw, 0u), d0.xyz); d1 = vec4f(dyIn(v1, channel, kh, kw, 0u), d1.xyz);
      d2 = vec4f(dyIn(v2, channel, kh, kw, 0u), d2.xyz); d3 = vec4f(dyIn(v3, channel, kh, kw, 0u), d3.xyz);
      windowStep(&acc0, &acc1, &acc2, &acc3, sharedRows(weightPair(mine, tap + kw)), d0, d1, d2, d3);
    }
  }
  storeWindowDx(v0, acc0, row); storeWindowDx(v1, acc1, row); storeWindowDx(v2, acc2, row); storeWindowDx(v3, acc3, row);
}

// ---------------------------------------------------------------------------------------------------
// backward-filter: window g covers taps (ci, kh, kw…kw+3); at output position (n, oh, ow) column c reads
// x at (oh·S − P + kh, ow·S − P + kw + c), so at ow + 1 the window is this one's columns S…3 and S more.
// Workgroup z picks the row block and the split, a range of the batch's output rows (n, oh).

fn tapWindow(g: u32) -> Window {
  let kernelRow = g / TAP_WINDOWS;  // ci·K + kh
  let kw = (g % TAP_WINDOWS) * 4u;
  var v: Window;
  v.h = kernelRow % KSIZE;
  v.w = kw;
  v.at = (kernelRow / KSIZE) * IN_HW + v.h * IN_W + kw;
  v.first = kernelRow * KSIZE + kw;
  v.width = select(0u, min(4u, KSIZE - kw), kernelRow < CIN * KSIZE);
  return v;
}

// x under column c of the window at the output position whose field starts at (ih, iw) of `image`, 0 in the padding.
fn xTap(v: Window, image: u32, ih: u32, iw: u32, c: u32) -> f32 {
  let at = image + v.at + ih * IN_W + iw + c;
#if ${PADDED}
  let inside = (ih + v.h < IN_H) & (iw + v.w + c < IN_W);
  return select(0.0, x[select(0u, at, inside)], inside);
#else
  return x[at];
#endif
}

fn xTaps(v: Window, image: u32, ih: u32, iw: u32) -> vec4f {
  return vec4f(xTap(v, image, ih, iw, 0u), xTap(v, image, ih, iw, 1u), xTap(v, image, ih, iw, 2u), xTap(v, image, ih, iw, 3u));
}

// The window one output column on (its field at iw) from the one before: S loads instead of four (S ≤ 3).
fn slideTaps(old: vec4f, v: Window, image: u32, ih: u32, iw: u32) -> vec4f {
#if ${SLIDE_1}
  return vec4f(old.yzw, xTap(v, image, ih, iw, 3u));
#elif ${SLIDE_2}
  return vec4f(old.zw, xTap(v, image, ih, iw, 2u), xTap(v, image, ih, iw, 3u));
#else
  return vec4f(old.w, xTap(v, image, ih, iw, 1u), xTap(v, image, ih, iw, 2u), xTap(v, image, ih, iw, 3u));
#endif
}

// Split `at`'s partial dWeight[row…row+7, taps of the window].
fn storeWindowDWeight(at: u32, v: Window, acc: array<vec4f, 8>, row: u32) {
  if (v.width > 0u) { storeDWeight(at, v.first, acc[0], acc[1], row); }
  if (v.width > 1u) { storeDWeight(at, v.first + 1u, acc[2], acc[3], row); }
  if (v.width > 2u) { storeDWeight(at, v.first + 2u, acc[4], acc[5], row); }
  if (v.width > 3u) { storeDWeight(at, v.first + 3u, acc[6], acc[7], row); }
}

// Workgroup z: (split of the batch's output rows, block of 8 output channels); x: THREADS × 4 tap windows.
@compute @workgroup_size(THREADS)
fn backward_filter(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let row = (group.z % ROW_BLOCKS) * ROWS;
  let split = group.z / ROW_BLOCKS;
  let g = group.x * THREADS * WINDOWS + local.x;
  let v0 = tapWindow(g); let v1 = tapWindow(g + THREADS); let v2 = tapWindow(g + 2u * THREADS); let v3 = tapWindow(g + 3u * THREADS);
  var acc0: array<vec4f, 8>; var acc1: array<vec4f, 8>; var acc2: array<vec4f, 8>; var acc3: array<vec4f, 8>;
  let mine = laneRowStarts(row, COUT, OUT_HW, lane);
  let last = min(dims.batch * OUT_H, (split + 1u) * dims.splitDepth);
  for (var outRow = split * dims.splitDepth; outRow < last; outRow++) {
    let image = (outRow / OUT_H) * CIN * IN_HW;
    let ih = (outRow % OUT_H) * STRIDE - PAD;  // wraps below 0
    let dyRow = positionOffset(outRow * OUT_W);
    var x0 = xTaps(v0, image, ih, 0u - PAD); var x1 = xTaps(v1, image, ih, 0u - PAD);
    var x2 = xTaps(v2, image, ih, 0u - PAD); var x3 = xTaps(v3, image, ih, 0u - PAD);
    windowStep(&acc0, &acc1, &acc2, &acc3, sharedRows(dyPair(mine, dyRow)), x0, x1, x2, x3);
    for (var ow = 1u; ow < OUT_W; ow++) {
      let iw = ow * STRIDE - PAD;
      x0 = slideTaps(x0, v0, image, ih, iw); x1 = slideTaps(x1, v1, image, ih, iw);
      x2 = slideTaps(x2, v2, image, ih, iw); x3 = slideTaps(x3, v3, image, ih, iw);
      windowStep(&acc0, &acc1, &acc2, &acc3, sharedRows(dyPair(mine, dyRow + ow)), x0, x1, x2, x3);
    }
  }
  let at = split * COUT * PATCH;
  storeWindowDWeight(at, v0, acc0, row); storeWindowDWeight(at, v1, acc1, row);
  storeWindowDWeight(at, v2, acc2, row); storeWindowDWeight(at, v3, acc3, row);
}

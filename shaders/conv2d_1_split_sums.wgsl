// conv2d, rung 1: split sums. Backward-filter and the bias gradient each sum over every output position
// of the batch into few outputs (a few hundred weights, a few channels): in rung 0 one invocation walks a
// whole batch alone, and a device with thousands of threads (or a CPU adapter with a few cores) sits
// idle. Here the batch is split over many workgroups, each writing a partial sum, and a second pass adds
// each output's partial sums in a fixed order, so the result is the same every run (no float atomics).
// It pays wherever a product has too few outputs to fill the device: on a GPU always, on a CPU adapter's
// few cores above all for rung 2–3's blocked backward-filter (a workgroup or two without splits).
// src/layers/conv2d-policy.ts sizes the splits for a CPU adapter (few, long) or a GPU (many, short) and
// picks the second pass (one invocation per output walking every split on a CPU adapter; a workgroup
// slicing them on a GPU, where one walk would wait on one load after another).
//
//   dWeightSplits [splits, COUT, CIN·KSIZE²]   partial dWeights (rung 2's blocked backward_filter writes them too)
//   dBiasSplits   [splits, COUT, BIAS_THREADS]  partial dBias sums, one per invocation of bias_partials
//
// docs/perf/conv2d.md has the measurements behind the shapes.

#include conv2d_common

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32, ${LEN_x}u>;
@group(0) @binding(2) var<storage, read> dy: array<f32, ${LEN_dy}u>;
@group(0) @binding(3) var<storage, read_write> dWeightSplits: array<f32, ${LEN_dWeightSplits}u>;
@group(0) @binding(4) var<storage, read_write> dWeight: array<f32, ${LEN_dWeight}u>;
@group(0) @binding(5) var<storage, read_write> dBiasSplits: array<f32, ${LEN_dBiasSplits}u>;
@group(0) @binding(6) var<storage, read_write> dBias: array<f32, ${LEN_dBias}u>;

// ---------------------------------------------------------------------------------------------------
// backward-filter: dWeightSplits[split, co, j] = Σ_{p in split} dy[n, co, oh, ow] · x[n, ci, oh·S − P + kh, ow·S − P + kw]
// over the split's output positions p = (n, oh, ow), j = (ci, kh, kw); then reduce_splits adds the splits.

const WG: u32 = 64u;

// One invocation per (weight, split): workgroups x·y cover the weights (folded past 65,535), z the splits.
@compute @workgroup_size(WG)
fn backward_filter(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = id.y * groups.x * WG + id.x;
  if (i >= COUT * PATCH) { return; }
  let co = i / PATCH;
  let tap = splitTap(i % PATCH);  // (ci, kh, kw)
  let split = id.z;
  let start = split * dims.splitDepth;
  let end = min(dims.batch * OUT_HW, start + dims.splitDepth);
  var sum = 0.0;
  for (var p = start; p < end; p++) {
    let n = p / OUT_HW;
    let o = p % OUT_HW;
    let ih = i32((o / OUT_W) * STRIDE + tap.y) - i32(PAD);
    let iw = i32((o % OUT_W) * STRIDE + tap.z) - i32(PAD);
    if (ih < 0 || iw < 0 || ih >= i32(IN_H) || iw >= i32(IN_W)) { continue; }
    sum += dy[(n * COUT + co) * OUT_HW + o] * x[((n * CIN + tap.x) * IN_H + u32(ih)) * IN_W + u32(iw)];
  }
  dWeightSplits[split * COUT * PATCH + i] = sum;
}

// dWeight = Σ_split dWeightSplits[split], one invocation per weight (workgroups folded past 65,535): a CPU
// adapter's shape, with no workgroup memory or barrier.
const REDUCE_WEIGHTS: u32 = 64u;

@compute @workgroup_size(REDUCE_WEIGHTS)
fn reduce_splits(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
                 @builtin(local_invocation_id) local: vec3u) {
  let i = (group.x + group.y * groups.x) * REDUCE_WEIGHTS + local.x;
  let weight = min(i, COUT * PATCH - 1u);  // past the last weight: clamped loads, no store
  var sum = 0.0;
  for (var s = 0u; s < dims.splits; s++) { sum += dWeightSplits[s * COUT * PATCH + weight]; }
  if (i < COUT * PATCH) { dWeight[i] = sum; }
}

// The same for a GPU: a workgroup covers SLICED_WEIGHTS weights × SLICES slices of the splits; invocation
// (w, s) sums splits s, s + SLICES, …, and invocation (w, 0) adds the slices' sums.
const SLICED_WEIGHTS: u32 = 16u;
const SLICES: u32 = 16u;
var<workgroup> sliceSums: array<f32, SLICED_WEIGHTS * SLICES>;

@compute @workgroup_size(SLICED_WEIGHTS, SLICES)
fn reduce_splits_sliced(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
                        @builtin(local_invocation_id) local: vec3u) {
  let i = (group.x + group.y * groups.x) * SLICED_WEIGHTS + local.x;
  let weight = min(i, COUT * PATCH - 1u);
  var sum = 0.0;
  for (var s = local.y; s < dims.splits; s += SLICES) { sum += dWeightSplits[s * COUT * PATCH + weight]; }
  sliceSums[local.y * SLICED_WEIGHTS + local.x] = sum;
  workgroupBarrier();
  if (local.y != 0u) { return; }
  for (var s = 1u; s < SLICES; s++) { sum += sliceSums[s * SLICED_WEIGHTS + local.x]; }
  if (i < COUT * PATCH) { dWeight[i] = sum; }
}

// ---------------------------------------------------------------------------------------------------
// bias gradient: bias_partials' workgroup (split, co) sums the images of its split (splitDepth of them),
// each invocation writing its own partial sum to dBiasSplits[split, co, invocation]; bias_reduce (or
// bias_reduce_sliced) adds each channel's partial sums. A tree through workgroup memory would cost a
// CPU adapter more than it saves: SwiftShader runs a workgroup with barriers as one coroutine per 4
// invocations.

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

// dBias[co] = Σ dBiasSplits[split, co, invocation], one invocation per channel walking them all: a CPU
// adapter's shape.
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

// The same for a GPU: a workgroup per channel, invocation t summing the t-th partial of every split
// (neighbouring invocations, neighbouring addresses) and invocation 0 adding those.
var<workgroup> threadSums: array<f32, BIAS_THREADS>;

@compute @workgroup_size(BIAS_THREADS)
fn bias_reduce_sliced(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) t: u32) {
  let co = group.x;
  var sum = 0.0;
  for (var s = 0u; s < dims.splits; s++) { sum += dBiasSplits[(s * COUT + co) * BIAS_THREADS + t]; }
  threadSums[t] = sum;
  workgroupBarrier();
  if (t != 0u) { return; }
  for (var u = 1u; u < BIAS_THREADS; u++) { sum += threadSums[u]; }
  dBias[co] = sum;
}

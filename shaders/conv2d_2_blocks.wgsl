// conv2d, rung 2: register blocks. Rung 0 loads two values for every multiply-add; here an invocation
// owns 8 channels × 8 positions (shaders/conv2d_blocks.wgsl) and each step of a sum loads 8 + 8 values
// for 64 multiply-adds. It pays on every adapter: on a GPU each load is reused 8 times from registers,
// and on a CPU adapter (SwiftShader runs 4 invocations as the lanes of one SIMD register and loads a
// value per lane one at a time) loads, not arithmetic, set the speed. Backward-filter's sum over the
// batch is split as in rung 1 (shaders/conv2d_1_split_sums.wgsl, whose reduce_splits adds the pieces).
//
// No workgroup-memory staging: on a CPU adapter a staged value costs a workgroup-memory write, a barrier
// and a read, no cheaper than the global read it replaces, and 8 rows already cover an MNIST layer's
// channels. docs/perf/conv2d.md has the measurements behind these choices.

#include activate
#include conv2d_common
#include conv2d_blocks
#include conv2d_block_bindings

// Workgroup z: a block of 8 output channels; x·y: the blocks of THREADS × 8 output positions.
@compute @workgroup_size(THREADS)
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let row = group.z * ROWS;
  let first = (group.x + group.y * groups.x) * THREADS * COLS + local.x;
  let lo = outputColumns(first);
  let hi = outputColumns(first + 4u * THREADS);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  let weightStarts = rowStarts(row, COUT, PATCH);
  for (var j = 0u; j < PATCH; j++) { forwardStep(&accLo, &accHi, lo, hi, j, weightRows(weightStarts, j)); }
  // Constant indices only (one call per column, not a loop): a local array indexed at run time anywhere
  // stays in memory on SwiftShader, and every step's multiply-adds then go through it.
  storeY(first + 0u * THREADS, accLo[0], accLo[1], row); storeY(first + 4u * THREADS, accHi[0], accHi[1], row);
  storeY(first + 1u * THREADS, accLo[2], accLo[3], row); storeY(first + 5u * THREADS, accHi[2], accHi[3], row);
  storeY(first + 2u * THREADS, accLo[4], accLo[5], row); storeY(first + 6u * THREADS, accHi[4], accHi[5], row);
  storeY(first + 3u * THREADS, accLo[6], accLo[7], row); storeY(first + 7u * THREADS, accHi[6], accHi[7], row);
}

// Workgroup z: a block of 8 input channels; x·y: the blocks of THREADS × 8 input positions.
@compute @workgroup_size(THREADS)
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let row = group.z * ROWS;
  let first = (group.x + group.y * groups.x) * THREADS * COLS + local.x;
  let lo = inputColumns(first);
  let hi = inputColumns(first + 4u * THREADS);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  let weightStarts = rowStarts(row, CIN, KK);
  for (var t = 0u; t < COUT * KK; t++) { dataStep(&accLo, &accHi, lo, hi, t, weightRows(weightStarts, tapOffset(t))); }
  storeDx(first + 0u * THREADS, accLo[0], accLo[1], row); storeDx(first + 4u * THREADS, accHi[0], accHi[1], row);
  storeDx(first + 1u * THREADS, accLo[2], accLo[3], row); storeDx(first + 5u * THREADS, accHi[2], accHi[3], row);
  storeDx(first + 2u * THREADS, accLo[4], accLo[5], row); storeDx(first + 6u * THREADS, accHi[4], accHi[5], row);
  storeDx(first + 3u * THREADS, accLo[6], accLo[7], row); storeDx(first + 7u * THREADS, accHi[6], accHi[7], row);
}

// Workgroup z: (split of the batch's output positions, block of 8 output channels); x: blocks of taps.
@compute @workgroup_size(THREADS)
fn backward_filter(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let row = (group.z % ROW_BLOCKS) * ROWS;
  let split = group.z / ROW_BLOCKS;
  let first = group.x * THREADS * COLS + local.x;
  let lo = tapColumns(first);
  let hi = tapColumns(first + 4u * THREADS);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  let start = split * dims.splitDepth;
  let end = min(dims.batch * OUT_HW, start + dims.splitDepth);
  let dyStarts = rowStarts(row, COUT, OUT_HW);
  for (var p = start; p < end; p++) { filterStep(&accLo, &accHi, lo, hi, p, dyRows(dyStarts, positionOffset(p))); }
  let at = split * COUT * PATCH;
  storeDWeight(at, first + 0u * THREADS, accLo[0], accLo[1], row); storeDWeight(at, first + 4u * THREADS, accHi[0], accHi[1], row);
  storeDWeight(at, first + 1u * THREADS, accLo[2], accLo[3], row); storeDWeight(at, first + 5u * THREADS, accHi[2], accHi[3], row);
  storeDWeight(at, first + 2u * THREADS, accLo[4], accLo[5], row); storeDWeight(at, first + 6u * THREADS, accHi[4], accHi[5], row);
  storeDWeight(at, first + 3u * THREADS, accLo[6], accLo[7], row); storeDWeight(at, first + 7u * THREADS, accHi[6], accHi[7], row);
}

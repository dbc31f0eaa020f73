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

// Forward: an 8 × 8 block of y per invocation (outputBlock).
@compute @workgroup_size(THREADS)
fn forward(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let block = outputBlock(group, groups, local.x);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  forwardSum(&accLo, &accHi, block);
  storeYBlock(&accLo, &accHi, block);
}

// Backward-data: an 8 × 8 block of dx per invocation (inputBlock).
@compute @workgroup_size(THREADS)
fn backward_data(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let block = inputBlock(group, groups, local.x);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  dataSum(&accLo, &accHi, block);
  storeDxBlock(&accLo, &accHi, block);
}

// Backward-filter: an 8 × 8 block of one split's dWeight per invocation (tapBlock).
@compute @workgroup_size(THREADS)
fn backward_filter(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let block = tapBlock(group, local.x);
  let split = splitOf(group);
  var accLo: array<vec4f, 8>;
  var accHi: array<vec4f, 8>;
  filterSum(&accLo, &accHi, block, splitPositions(split));
  storeDWeightBlock(&accLo, &accHi, split * COUT * PATCH, block);
}

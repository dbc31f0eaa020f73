// NaN/Inf guard: records the first optimizer step after which the epoch's running loss sum is not
// finite, so the trainer can name the step without reading anything back per step. Dispatched once
// per training step, right after softmax_xent has added the batch into `totals`. The losses are ≥ 0,
// so once the running sum is Inf or NaN it stays so: the smallest t seen is the first bad step.
//
//   totals    { lossSum: f32, correct: u32 }  the epoch's running totals (shaders/softmax_xent.wgsl)
//   firstBad  atomic u32, 0xffffffff until a bad step; then min(t) over the bad steps
//
// WGSL has no isNan/isInf: an f32 is Inf or NaN exactly when its exponent bits are all ones.

#include totals

#include step

@group(0) @binding(0) var<storage, read> totals: Totals;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read_write> firstBad: atomic<u32>;

@compute @workgroup_size(1)
fn main() {
  let exponent = bitcast<u32>(totals.lossSum) & 0x7f800000u;
  if (exponent == 0x7f800000u) {
    atomicMin(&firstBad, step.t);
  }
}

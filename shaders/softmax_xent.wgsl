// Softmax cross-entropy over a batch, in ONE workgroup that loops over the rows (a batch is at most a
// few thousand rows of 10 classes: one dispatch beats a second reduction pass).
//
//   logits   [rows × classes] f32
//   labels   [rows] u32
//   totals   { lossSum: f32, correct: u32 }  running epoch totals: this batch's Σ loss and number of
//            rows whose argmax is the label are ADDED, so an epoch accumulates on the GPU and is
//            read once (mean loss = lossSum / rows seen)
//   train:   dLogits [rows × classes] f32 = (softmax − onehot) / rows, the gradient of the batch MEAN
//   EVAL:    probs   [all eval rows × classes] f32, this batch's rows at (step.batchStart + row)
//            confusion [classes × classes] atomic u32, [label][predicted] += 1
//
// loss = logsumexp(l) − l[label] with the row max subtracted before exp, so no exp overflows.
// Argmax takes the first maximum on ties (as torch.argmax does).

struct Dims {
  rows: u32,
  classes: u32,
}

#include totals

#include step

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> logits: array<f32, ${LEN_logits}u>;
@group(0) @binding(2) var<storage, read> labels: array<u32, ${LEN_labels}u>;
@group(0) @binding(3) var<storage, read_write> totals: Totals;
#if ${EVAL}
@group(0) @binding(4) var<uniform> step: Step;
@group(0) @binding(5) var<storage, read_write> probs: array<f32, ${LEN_probs}u>;
@group(0) @binding(6) var<storage, read_write> confusion: array<atomic<u32>>;
#else
@group(0) @binding(4) var<storage, read_write> dLogits: array<f32, ${LEN_dLogits}u>;
#endif

// Invocations (src/engine/loss.ts): 64 on a CPU adapter, where each tree step below is a barrier paid for
// in every SIMD group of the workgroup; 256 on a GPU, where walking 16 rows each instead of 4 is what
// costs (docs/perf/loss.md).
const WG: u32 = ${WG}u;

var<workgroup> lossParts: array<f32, WG>;
var<workgroup> correctParts: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) thread: u32) {
  var lossSum = 0.0;
  var correct = 0u;
  for (var row = thread; row < dims.rows; row += WG) {
    let base = row * dims.classes;
    var maxLogit = logits[base];
    var predicted = 0u;
    for (var j = 1u; j < dims.classes; j++) {
      if (logits[base + j] > maxLogit) {
        maxLogit = logits[base + j];
        predicted = j;
      }
    }
    var sumExp = 0.0;
    for (var j = 0u; j < dims.classes; j++) { sumExp += exp(logits[base + j] - maxLogit); }
    let label = labels[row];
    lossSum += maxLogit + log(sumExp) - logits[base + label];
    correct += select(0u, 1u, predicted == label);

#if ${EVAL}
    let out = (step.batchStart + row) * dims.classes;
    for (var j = 0u; j < dims.classes; j++) { probs[out + j] = exp(logits[base + j] - maxLogit) / sumExp; }
    atomicAdd(&confusion[label * dims.classes + predicted], 1u);
#else
    let scale = 1.0 / f32(dims.rows);
    for (var j = 0u; j < dims.classes; j++) {
      let p = exp(logits[base + j] - maxLogit) / sumExp;
      dLogits[base + j] = (p - select(0.0, 1.0, j == label)) * scale;
    }
#endif
  }

  // Tree reduction of the per-invocation partial sums; invocation 0 adds the batch into the totals.
  lossParts[thread] = lossSum;
  correctParts[thread] = correct;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (thread < half) {
      lossParts[thread] += lossParts[thread + half];
      correctParts[thread] += correctParts[thread + half];
    }
    workgroupBarrier();
  }
  if (thread == 0u) {
    totals.lossSum += lossParts[0];
    totals.correct += correctParts[0];
  }
}

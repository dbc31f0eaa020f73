/** Float64 reference of softmax cross-entropy, the oracle for shaders/softmax_xent.wgsl. Row-major [rows × classes]. */

/**
 * Per batch: Σ loss over rows, rows whose first argmax is the label, the softmax probabilities, the
 * gradient of the MEAN loss ((softmax − onehot) / rows), and the [label][predicted] confusion counts.
 */
export function softmaxCrossEntropy(logits: ArrayLike<number>, labels: ArrayLike<number>, rows: number, classes: number) {
  const probs = new Float64Array(rows * classes);
  const dLogits = new Float64Array(rows * classes);
  const confusion = new Array<number>(classes * classes).fill(0);
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: classes }, (_, j) => logits[r * classes + j]!);
    const max = Math.max(...row);
    const predicted = row.indexOf(max);
    const sumExp = row.reduce((s, v) => s + Math.exp(v - max), 0);
    const label = labels[r]!;
    lossSum += max + Math.log(sumExp) - row[label]!;
    if (predicted === label) correct++;
    confusion[label * classes + predicted]!++;
    row.forEach((v, j) => {
      const p = Math.exp(v - max) / sumExp;
      probs[r * classes + j] = p;
      dLogits[r * classes + j] = (p - (j === label ? 1 : 0)) / rows;
    });
  }
  return { lossSum, correct, probs, dLogits, confusion };
}

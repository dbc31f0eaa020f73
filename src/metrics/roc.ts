/**
 * One-vs-rest ROC curves with sklearn's `roc_curve` semantics: one point per distinct score (tied
 * scores move the curve diagonally, together), starting at (0, 0), and AUC by the trapezoid rule.
 * Where a class has no positives (or no negatives) sklearn returns NaN and refuses the AUC; we give
 * a rate of 0 instead, so such a curve is flat and its AUC is 0 — results stay JSON-safe.
 */

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  auc: number;
}

export function rocCurve(scores: ArrayLike<number>, positives: ArrayLike<boolean>): RocCurve {
  if (scores.length !== positives.length) {
    throw new RangeError(`rocCurve: ${scores.length} scores but ${positives.length} labels`);
  }
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const tps = [0];
  const fps = [0];
  let tp = 0;
  let fp = 0;
  order.forEach((i, k) => {
    if (positives[i]) tp++;
    else fp++;
    // A threshold sits only below the last of a run of equal scores.
    if (k === order.length - 1 || scores[order[k + 1]] !== scores[i]) {
      tps.push(tp);
      fps.push(fp);
    }
  });
  const fpr = fps.map((f) => (fp === 0 ? 0 : f / fp));
  const tpr = tps.map((t) => (tp === 0 ? 0 : t / tp));
  return { fpr, tpr, auc: trapezoid(fpr, tpr) };
}

/** AUC of each class against the rest, from `probs` (n × classes, row-major) and the true labels. */
export function rocAucPerClass(probs: Float32Array, labels: ArrayLike<number>, classes = 10): number[] {
  const n = labels.length;
  if (probs.length !== n * classes) {
    throw new RangeError(`rocAucPerClass: ${probs.length} probabilities for ${n} labels × ${classes} classes`);
  }
  return Array.from({ length: classes }, (_, c) => {
    const scores = Float32Array.from({ length: n }, (_, i) => probs[i * classes + c]);
    const positives = Array.from({ length: n }, (_, i) => labels[i] === c);
    return rocCurve(scores, positives).auc;
  });
}

/**
 * At most `maxPoints` points of a curve for plotting, evenly spaced along its length (ROC curves are
 * monotone, so the length is Δfpr + Δtpr); the first and last points are kept exactly.
 */
export function downsampleCurve(curve: { fpr: number[]; tpr: number[] }, maxPoints = 200): { fpr: number[]; tpr: number[] } {
  const { fpr, tpr } = curve;
  const n = fpr.length;
  if (n <= maxPoints) return { fpr: fpr.slice(), tpr: tpr.slice() };
  const walked = (i: number) => fpr[i] - fpr[0] + tpr[i] - tpr[0];
  const spacing = walked(n - 1) / (maxPoints - 1);
  const kept = [0];
  for (let i = 1; i < n - 1 && kept.length < maxPoints - 1; i++) {
    if (walked(i) >= walked(kept[kept.length - 1]) + spacing) kept.push(i);
  }
  kept.push(n - 1);
  return { fpr: kept.map((i) => fpr[i]), tpr: kept.map((i) => tpr[i]) };
}

function trapezoid(x: number[], y: number[]): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

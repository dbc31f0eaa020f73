/**
 * One-vs-rest ROC curves with sklearn's `roc_curve` semantics: one point per distinct score (tied
 * scores move the curve diagonally, together), starting at (0, 0), and AUC by the trapezoid rule.
 * Where a class has no positives (or no negatives) sklearn returns NaN and refuses the AUC; we give
 * a rate of 0 instead, so such a curve is flat and its AUC is 0 — results stay JSON-safe.
 */
import { yieldToEventLoop } from '../yield.ts';

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  auc: number;
}

export function rocCurve(scores: ArrayLike<number>, positives: ArrayLike<boolean>): RocCurve {
  if (scores.length !== positives.length) {
    throw new RangeError(`rocCurve: ${scores.length} scores but ${positives.length} labels`);
  }
  const { positive, negative } = sortedScores(scores, positives);
  const tps = [0];
  const fps = [0];
  // Walk both sorted lists down from the highest score: a threshold sits below each distinct score,
  // and every sample with that score passes it together (ties move the curve diagonally).
  let p = positive.length;
  let n = negative.length;
  while (p > 0 || n > 0) {
    const score = p === 0 ? negative[n - 1] : n === 0 ? positive[p - 1] : Math.max(positive[p - 1], negative[n - 1]);
    while (p > 0 && same(positive[p - 1], score)) p--;
    while (n > 0 && same(negative[n - 1], score)) n--;
    tps.push(positive.length - p);
    fps.push(negative.length - n);
  }
  const [tp, fp] = [positive.length, negative.length];
  const fpr = fps.map((f) => (fp === 0 ? 0 : f / fp));
  const tpr = tps.map((t) => (tp === 0 ? 0 : t / tp));
  return { fpr, tpr, auc: trapezoid(fpr, tpr) };
}

/** The scores of the positives and of the negatives, each sorted ascending by the native numeric sort (no comparator calls: 10,000 scores a few times faster). */
function sortedScores(scores: ArrayLike<number>, positives: ArrayLike<boolean>): { positive: Float64Array; negative: Float64Array } {
  let count = 0;
  for (let i = 0; i < positives.length; i++) if (positives[i]) count++;
  const positive = new Float64Array(count);
  const negative = new Float64Array(scores.length - count);
  for (let i = 0, p = 0, n = 0; i < scores.length; i++) {
    if (positives[i]) positive[p++] = scores[i];
    else negative[n++] = scores[i];
  }
  return { positive: positive.sort(), negative: negative.sort() };
}

/** Equal scores, NaN included (the native sort puts NaNs last, so they form the top group). */
function same(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/**
 * The ROC curve of each class against the rest, from `probs` (n × classes, row-major) and the true
 * labels. One class per task: sorting 10,000 scores takes tens of milliseconds on a slow CPU, and a
 * page's main thread must not be held much longer than that.
 */
export async function rocCurvesPerClass(probs: Float32Array, labels: ArrayLike<number>, classes = 10): Promise<RocCurve[]> {
  const n = labels.length;
  if (probs.length !== n * classes) {
    throw new RangeError(`rocCurvesPerClass: ${probs.length} probabilities for ${n} labels × ${classes} classes`);
  }
  const scores = new Float32Array(n);
  const positives = new Array<boolean>(n);
  const curves: RocCurve[] = [];
  for (let c = 0; c < classes; c++) {
    if (c > 0) await yieldToEventLoop();
    for (let i = 0; i < n; i++) {
      scores[i] = probs[i * classes + c];
      positives[i] = labels[i] === c;
    }
    curves.push(rocCurve(scores, positives));
  }
  return curves;
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

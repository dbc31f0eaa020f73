/**
 * Classification report from a confusion matrix, with sklearn's `classification_report` conventions:
 * a ratio with a zero denominator is 0 (zero_division=0), F1 = 2·tp / (support + predicted), and the
 * averages run over the classes that occur in the labels or the predictions.
 */
import { downsampleCurve, rocCurvesPerClass } from './roc.ts';

export interface ClassScores {
  label: number;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

export interface TestReport {
  loss: number;
  accuracy: number;
  /** 10×10 counts, rows = true label, columns = predicted. */
  confusion: number[][];
  perClass: ClassScores[];
  macro: Averages;
  weighted: Averages;
  /** One-vs-rest ROC AUC per digit, from softmax probabilities. */
  rocAuc: number[];
  /** Each digit's one-vs-rest ROC curve, at most 200 of its points (downsampleCurve: endpoints exact). */
  roc: { fpr: number[]; tpr: number[] }[];
}

export interface ClassificationReport {
  accuracy: number;
  perClass: ClassScores[];
  macro: Averages;
  weighted: Averages;
}

/** Counts of (true label, predicted label) pairs: rows = true label, columns = predicted. */
export function confusionFromPredictions(labels: ArrayLike<number>, predicted: ArrayLike<number>, classes = 10): number[][] {
  if (labels.length !== predicted.length) {
    throw new RangeError(`confusion: ${labels.length} labels but ${predicted.length} predictions`);
  }
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const [t, p] = [labels[i], predicted[i]];
    if (!(t >= 0 && t < classes && p >= 0 && p < classes)) {
      throw new RangeError(`confusion: label ${t} / prediction ${p} at index ${i} is outside 0–${classes - 1}`);
    }
    confusion[t][p]++;
  }
  return confusion;
}

export function classificationReport(confusion: number[][]): ClassificationReport {
  const classes = confusion.length;
  const predictedCount = (c: number) => confusion.reduce((sum, row) => sum + row[c], 0);
  const perClass = confusion.map((row, label): ClassScores => {
    const tp = row[label];
    const support = sum(row);
    const predicted = predictedCount(label);
    return { label, precision: ratio(tp, predicted), recall: ratio(tp, support), f1: ratio(2 * tp, support + predicted), support };
  });
  const present = perClass.filter((c) => c.support > 0 || predictedCount(c.label) > 0);
  const total = sum(perClass.map((c) => c.support));
  const correct = sum(Array.from({ length: classes }, (_, c) => confusion[c][c]));
  return {
    accuracy: ratio(correct, total),
    perClass,
    macro: average(present, () => 1 / present.length),
    weighted: average(present, (c) => ratio(c.support, total)),
  };
}

/** The run's test results: `lossSum` is summed over the test images, `probs` is n × 10 softmax output. */
export async function testReport(confusion: number[][], lossSum: number, probs: Float32Array, labels: ArrayLike<number>): Promise<TestReport> {
  const report = classificationReport(confusion);
  const count = sum(report.perClass.map((c) => c.support));
  if (count !== labels.length) throw new RangeError(`testReport: confusion counts ${count} images but there are ${labels.length} labels`);
  const curves = await rocCurvesPerClass(probs, labels);
  return { loss: ratio(lossSum, count), ...report, confusion, rocAuc: curves.map((c) => c.auc), roc: curves.map((c) => downsampleCurve(c)) };
}

/**
 * The sklearn text table (`classification_report(digits=3)`, the study's format), for the CLI and the
 * markdown report.
 */
export function formatReport(report: ClassificationReport, digits = 3): string {
  const width = 'weighted avg'.length;
  const support = sum(report.perClass.map((c) => c.support));
  const cell = (x: number) => fixed(x, digits).padStart(9);
  const row = (name: string, s: Averages, n: number) =>
    `${name.padStart(width)}  ${cell(s.precision)} ${cell(s.recall)} ${cell(s.f1)} ${String(n).padStart(9)}\n`;
  const header = `${''.padStart(width)}  ${['precision', 'recall', 'f1-score', 'support'].map((h) => h.padStart(9)).join(' ')}\n\n`;
  return header
    + report.perClass.map((c) => row(String(c.label), c, c.support)).join('')
    + `\n${'accuracy'.padStart(width)}  ${''.padStart(19)} ${cell(report.accuracy)} ${String(support).padStart(9)}\n`
    + row('macro avg', report.macro, support)
    + row('weighted avg', report.weighted, support);
}

/** Like Python's format: an exact tie (0.0625 to 3 digits) rounds to even, where toFixed rounds it up. */
function fixed(x: number, digits: number): string {
  const exact = x.toFixed(digits + 30); // a double in [0, 1] that ties has a short exact expansion
  const truncated = exact.slice(0, exact.length - 30).replace(/\.$/, '');
  const tieToEven = /^50*$/.test(exact.slice(-30)) && Number(truncated.at(-1)) % 2 === 0;
  return tieToEven ? truncated : x.toFixed(digits);
}

function average(classes: ClassScores[], weight: (c: ClassScores) => number): Averages {
  const mean = (key: keyof Averages) => sum(classes.map((c) => weight(c) * c[key]));
  return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') };
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

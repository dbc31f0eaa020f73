import { expect, test } from '@playwright/test';
import { Rng } from '../src/data/random.ts';
import { classificationReport, confusionFromPredictions, formatReport, testReport } from '../src/metrics/report.ts';
import { downsampleCurve, rocCurve, rocCurvesPerClass } from '../src/metrics/roc.ts';

const close = (actual: number, expected: number, digits = 10) => expect(actual).toBeCloseTo(expected, digits);

test('classification report of a small case worked by hand', () => {
  // Class 2 is never predicted (precision 0, not NaN); class 3 occurs nowhere, so the averages skip it.
  const labels = [0, 0, 0, 0, 1, 1, 1, 2, 2];
  const predicted = [0, 0, 0, 1, 1, 1, 0, 1, 0];
  const confusion = confusionFromPredictions(labels, predicted, 4);
  expect(confusion).toEqual([[3, 1, 0, 0], [1, 2, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]);

  const report = classificationReport(confusion);
  // Class 0: tp 3 of 5 predicted, 4 true; class 1: tp 2 of 4 predicted, 3 true. F1 = 2tp / (true + predicted).
  const expected = [[3 / 5, 3 / 4, 6 / 9, 4], [2 / 4, 2 / 3, 4 / 7, 3], [0, 0, 0, 2], [0, 0, 0, 0]];
  report.perClass.forEach((c, i) => {
    expect(c.label).toBe(i);
    [c.precision, c.recall, c.f1, c.support].forEach((v, j) => close(v, expected[i][j]));
  });
  close(report.accuracy, 5 / 9);
  close(report.macro.precision, (0.6 + 0.5) / 3);
  close(report.macro.recall, (0.75 + 2 / 3) / 3);
  close(report.macro.f1, (6 / 9 + 4 / 7) / 3);
  close(report.weighted.precision, (4 * 0.6 + 3 * 0.5) / 9);
  close(report.weighted.recall, 5 / 9);
  close(report.weighted.f1, (4 * (6 / 9) + 3 * (4 / 7)) / 9);
});

// A confusion matrix with the study's Task 1 best-model margins (digits 0, 4, 7 never predicted).
const studyConfusion = [
  [0, 0, 90, 0, 0, 343, 547, 0, 0, 0],
  [0, 1112, 0, 0, 0, 0, 0, 0, 23, 0],
  [0, 0, 977, 0, 0, 0, 0, 0, 55, 0],
  [0, 0, 0, 953, 0, 0, 0, 0, 57, 0],
  [0, 0, 83, 277, 0, 0, 0, 0, 0, 622],
  [0, 0, 51, 0, 0, 841, 0, 0, 0, 0],
  [0, 0, 5, 0, 0, 0, 936, 0, 17, 0],
  [0, 0, 0, 0, 0, 0, 0, 0, 0, 1028],
  [0, 41, 4, 0, 0, 0, 0, 0, 929, 0],
  [0, 0, 31, 0, 0, 0, 0, 0, 0, 977],
];

// sklearn 1.9 classification_report(digits=3) of the same predictions, character for character;
// every number is the study's.
const studyText = `              precision    recall  f1-score   support

           0      0.000     0.000     0.000       980
           1      0.964     0.980     0.972      1135
           2      0.787     0.947     0.860      1032
           3      0.775     0.944     0.851      1010
           4      0.000     0.000     0.000       982
           5      0.710     0.943     0.810       892
           6      0.631     0.977     0.767       958
           7      0.000     0.000     0.000      1028
           8      0.859     0.954     0.904       974
           9      0.372     0.969     0.538      1008

    accuracy                          0.673      9999
   macro avg      0.510     0.671     0.570      9999
weighted avg      0.514     0.673     0.573      9999
`;

test("the study's best-model report comes out of a confusion matrix with its margins", () => {
  const report = classificationReport(studyConfusion);
  expect(report.perClass.map((c) => c.support)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1008]);
  for (const digit of [0, 4, 7]) expect(report.perClass[digit]).toEqual({ label: digit, precision: 0, recall: 0, f1: 0, support: report.perClass[digit].support });
  close(report.accuracy, 6725 / 9999);
  expect(formatReport(report)).toBe(studyText);
});

test('formatReport rounds exact ties to even, as Python does', () => {
  // 1/16 = 0.0625 → 0.062 (toFixed says 0.063); 3/16 = 0.1875 → 0.188.
  const sixteenth = formatReport(classificationReport([[1, 0], [15, 0]]));
  expect(sixteenth).toContain('           0      0.062     1.000     0.118         1\n');
  expect(sixteenth).toContain('weighted avg      0.004     0.062     0.007        16\n');
  const threeSixteenths = formatReport(classificationReport([[3, 0], [13, 0]]));
  expect(threeSixteenths).toContain('    accuracy                          0.188        16\n');
  expect(threeSixteenths).toContain('   macro avg      0.094     0.500     0.158        16\n');
});

test('confusionFromPredictions refuses mismatched lengths and out-of-range classes', () => {
  expect(() => confusionFromPredictions([0, 1], [0])).toThrow('confusion: 2 labels but 1 predictions');
  expect(() => confusionFromPredictions([0, 10], [0, 1])).toThrow('confusion: label 10 / prediction 1 at index 1 is outside 0–9');
});

test('ROC curve with ties, as sklearn roc_curve computes it', () => {
  // sklearn: fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1], AUC 0.75.
  expect(rocCurve([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toEqual({ fpr: [0, 0, 0.5, 0.5, 1], tpr: [0, 0.5, 0.5, 1, 1], auc: 0.75 });
  // A tie between a positive and a negative is one diagonal step: sklearn gives AUC 0.875.
  expect(rocCurve([0.2, 0.6, 0.6, 0.9], [false, true, false, true])).toEqual({ fpr: [0, 0, 0.5, 1], tpr: [0, 0.5, 1, 1], auc: 0.875 });
  expect(rocCurve([0.5, 0.5, 0.5, 0.5], [true, false, true, false])).toEqual({ fpr: [0, 1], tpr: [0, 1], auc: 0.5 });
});

test('ROC AUC of perfect, inverse and one-sided scores', () => {
  const positives = [false, false, true, true];
  expect(rocCurve([0.1, 0.2, 0.8, 0.9], positives).auc).toBe(1);
  expect(rocCurve([0.9, 0.8, 0.2, 0.1], positives).auc).toBe(0);
  // No positives: sklearn refuses; we give a flat curve and AUC 0.
  expect(rocCurve([0.1, 0.2, 0.3], [false, false, false])).toEqual({ fpr: [0, 1 / 3, 2 / 3, 1], tpr: [0, 0, 0, 0], auc: 0 });
});

test('ROC AUC equals the pairwise (Mann–Whitney) probability, ties counting half', () => {
  const rng = new Rng(7);
  const n = 300;
  const scores = Array.from({ length: n }, () => rng.int(20) / 20); // coarse, so many ties
  const positives = scores.map((s) => rng.next() < 0.2 + 0.6 * s);
  let wins = 0;
  let pairs = 0;
  scores.forEach((p, i) => {
    if (!positives[i]) return;
    scores.forEach((q, j) => {
      if (positives[j]) return;
      pairs++;
      wins += p > q ? 1 : p === q ? 0.5 : 0;
    });
  });
  close(rocCurve(scores, positives).auc, wins / pairs, 12);
});

test('rocCurvesPerClass: one-vs-rest over n × 10 probabilities', async () => {
  // Sample i is digit i % 9 (so 9 never occurs); its own class gets the highest score.
  const n = 45;
  const labels = Array.from({ length: n }, (_, i) => i % 9);
  const probs = new Float32Array(n * 10).fill(0.05);
  labels.forEach((label, i) => (probs[i * 10 + label] = 0.55));
  expect((await rocCurvesPerClass(probs, labels)).map((curve) => curve.auc)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  await expect(rocCurvesPerClass(probs.subarray(1), labels)).rejects.toThrow('rocCurvesPerClass: 449 probabilities for 45 labels × 10 classes');
});

test('downsampleCurve keeps at most 200 points, the exact endpoints, and the order', () => {
  const rng = new Rng(3);
  const scores = Array.from({ length: 5000 }, () => rng.next());
  const curve = rocCurve(scores, scores.map((s) => rng.next() < s));
  expect(curve.fpr.length).toBe(5001);
  const small = downsampleCurve(curve);
  expect(small.fpr.length).toBeLessThanOrEqual(200);
  expect(small.fpr.length).toBeGreaterThan(150);
  expect([small.fpr[0], small.tpr[0], small.fpr.at(-1), small.tpr.at(-1)]).toEqual([0, 0, 1, 1]);
  small.fpr.slice(1).forEach((f, i) => expect(f + small.tpr[i + 1]).toBeGreaterThan(small.fpr[i] + small.tpr[i]));
  expect(downsampleCurve({ fpr: [0, 0.5, 1], tpr: [0, 1, 1] })).toEqual({ fpr: [0, 0.5, 1], tpr: [0, 1, 1] });
});

test('testReport fills the TestReport of a run', async () => {
  const labels = [0, 1, 1, 2];
  const predicted = [0, 1, 2, 2];
  const probs = new Float32Array(40).fill(0.01);
  predicted.forEach((p, i) => (probs[i * 10 + p] = 0.91));
  const confusion = confusionFromPredictions(labels, predicted);
  const report = await testReport(confusion, 2, probs, labels);
  expect(report.loss).toBe(0.5);
  expect(report.accuracy).toBe(0.75);
  expect(report.confusion).toBe(confusion);
  expect(report.perClass).toHaveLength(10);
  close(report.macro.recall, (1 + 0.5 + 1) / 3);
  // Digit 1: 0.91 and 0.01 for its two images, 0.01 for the rest. Digit 2: 0.91 ties with image 2's.
  expect(report.rocAuc.slice(0, 2)).toEqual([1, 0.75]);
  close(report.rocAuc[2], 5 / 6);
  await expect(testReport(confusion, 2, probs, [0, 1, 1])).rejects.toThrow('testReport: confusion counts 4 images but there are 3 labels');
});

/**
 * What a finished run shows for the test set: headline numbers, the confusion matrix as a heat map
 * with counts, the per-class report (the study's sklearn format), one-vs-rest ROC curves, the first
 * layer's learned filters, and four right and four wrong predictions with their images.
 */
import uPlot from 'uplot';
import type { MnistSet } from '../src/data/mnist.ts';
import { downsampleCurve } from '../src/metrics/roc.ts';
import type { LayerSpec } from '../src/graph/spec.ts';
import type { TestReport } from '../src/metrics/report.ts';
import type { RunResult } from '../src/train/result.ts';
import { yieldToEventLoop } from '../src/yield.ts';
import { digitCanvas, fmt, h, hiDpiCanvas } from './dom.ts';

/** Ten distinguishable colours for the ten digits (Tableau 10). */
export const DIGIT_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#7f7f7f'];

export function headline(result: RunResult): HTMLElement {
  const best = result.epochs.find((e) => e.epoch === result.bestEpoch) ?? result.epochs.at(-1);
  const stat = (label: string, value: string, key: string) =>
    h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), h('span', { class: 'stat-value', dataset: { stat: key } }, value));
  return h('div', { class: 'big-numbers' },
    stat('test accuracy', fmt.pct(result.test.accuracy), 'test-accuracy'),
    stat('test loss', fmt.num(result.test.loss), 'test-loss'),
    stat('train acc', fmt.pct(best?.trainAcc), 'train-accuracy'),
    stat('val acc', fmt.pct(best?.valAcc), 'val-accuracy'),
    stat('best epoch', `${result.bestEpoch}${result.stoppedEarly ? ' (stopped)' : ''}`, 'best-epoch'),
  );
}

/** The confusion matrix as a heat map with counts: rows are true digits, columns predictions. */
export function confusionCanvas(confusion: number[][], accent: string): HTMLCanvasElement {
  const canvas = h('canvas', { class: 'confusion' });
  const size = 420;
  const pad = { left: 34, top: 12, right: 8, bottom: 34 };
  const cell = (size - pad.left - pad.right) / 10;
  const height = pad.top + cell * 10 + pad.bottom;
  const ctx = hiDpiCanvas(canvas, size, height);
  canvas.style.aspectRatio = `${size} / ${height}`;
  const max = Math.max(1, ...confusion.flat());
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, size, height);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  confusion.forEach((row, t) => row.forEach((count, p) => {
    // A square-root scale, so the small off-diagonal counts still show against the diagonal.
    const strength = Math.sqrt(count / max);
    ctx.fillStyle = count === 0 ? '#f6f5f1' : mix('#ffffff', t === p ? accent : '#c2383c', 0.08 + 0.92 * strength);
    ctx.fillRect(pad.left + p * cell + 1, pad.top + t * cell + 1, cell - 2, cell - 2);
    ctx.fillStyle = strength > 0.55 ? '#fff' : '#1c2230';
    ctx.font = `${count >= 1000 ? 10 : 11}px system-ui, sans-serif`;
    ctx.fillText(String(count), pad.left + (p + 0.5) * cell, pad.top + (t + 0.5) * cell);
  }));
  ctx.fillStyle = '#5b6475';
  ctx.font = '600 11px system-ui, sans-serif';
  for (let d = 0; d < 10; d++) {
    ctx.fillText(String(d), pad.left - 12, pad.top + (d + 0.5) * cell);
    ctx.fillText(String(d), pad.left + (d + 0.5) * cell, pad.top + 10 * cell + 11);
  }
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#9299a6';
  ctx.fillText('predicted', pad.left + 5 * cell, height - 8);
  ctx.save();
  ctx.translate(9, pad.top + 5 * cell);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('true', 0, 0);
  ctx.restore();
  canvas.dataset.total = String(confusion.flat().reduce((a, b) => a + b, 0));
  canvas.dataset.matrix = JSON.stringify(confusion);
  return canvas;
}

/** The classification report: precision / recall / F1 / support per digit, then accuracy and averages. */
export function reportTable(test: TestReport): HTMLTableElement {
  const cell = (x: number) => h('td', { class: x === 0 ? 'zero' : '' }, x.toFixed(3));
  const support = test.perClass.reduce((n, c) => n + c.support, 0);
  const rows = test.perClass.map((c) =>
    h('tr', { dataset: { digit: String(c.label) } },
      h('td', {}, String(c.label)), cell(c.precision), cell(c.recall),
      h('td', { class: c.f1 === 0 ? 'zero' : '' }, h('span', { class: 'bar', style: `width:${Math.round(c.f1 * 40)}px` }), c.f1.toFixed(3)),
      h('td', {}, fmt.int(c.support)), h('td', {}, (test.rocAuc[c.label] ?? 0).toFixed(3))));
  const average = (name: string, a: TestReport['macro']) =>
    h('tr', { class: name === 'macro avg' ? 'sep' : '' }, h('td', {}, name), h('td', {}, a.precision.toFixed(3)), h('td', {}, a.recall.toFixed(3)), h('td', {}, a.f1.toFixed(3)), h('td', {}, fmt.int(support)), h('td', {}, ''));
  return h('table', { class: 'report' },
    h('thead', {}, h('tr', {}, ...['digit', 'precision', 'recall', 'f1-score', 'support', 'ROC AUC'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows,
      h('tr', { class: 'sep' }, h('td', {}, 'accuracy'), h('td', {}, ''), h('td', {}, ''), h('td', {}, test.accuracy.toFixed(3)), h('td', {}, fmt.int(support)), h('td', {}, '')),
      average('macro avg', test.macro), average('weighted avg', test.weighted)));
}

/**
 * One-vs-rest ROC curves of the ten digits (the test report's, worked out once by the trainer) in one
 * uPlot chart. uPlot wants one shared x: every curve's points go into one column sorted by
 * false-positive rate, each row holding one curve's point (the others null, bridged by spanGaps), so
 * each curve keeps its vertices.
 */
export function rocChart(target: HTMLElement, test: TestReport, width: number): uPlot {
  const { roc: curves, rocAuc: aucs } = test;
  const points: { x: number; y: number; digit: number }[] = [];
  curves.forEach((curve, digit) => {
    const small = downsampleCurve(curve, 150);
    small.fpr.forEach((x, k) => points.push({ x, y: small.tpr[k]!, digit }));
  });
  points.sort((a, b) => a.x - b.x || a.digit - b.digit || a.y - b.y);
  const data: (number | null)[][] = [points.map((p) => p.x), ...Array.from({ length: 10 }, () => new Array<number | null>(points.length).fill(null))];
  points.forEach((p, i) => (data[p.digit + 1]![i] = p.y));
  const opts: uPlot.Options = {
    width,
    height: 300,
    title: 'ROC, one digit against the rest',
    scales: { x: { time: false, range: [0, 1] }, y: { range: [0, 1] } },
    axes: [
      { label: 'false positive rate', stroke: '#5b6475', grid: { stroke: '#eceae4' } },
      { label: 'true positive rate', stroke: '#5b6475', grid: { stroke: '#eceae4' }, size: 44 },
    ],
    series: [
      { label: 'fpr', value: (_u, v) => (v === null ? '–' : v.toFixed(3)) },
      ...aucs.map((auc, digit) => ({ label: `${digit} · AUC ${auc.toFixed(3)}`, stroke: DIGIT_COLORS[digit], width: 1.5, spanGaps: true, points: { show: false }, value: (_u: uPlot, v: number | null) => (v === null ? '' : v.toFixed(3)) })),
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: false },
    hooks: {
      drawClear: [(u) => {
        // The chance diagonal.
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#d0d3d9';
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(u.valToPos(0, 'x', true), u.valToPos(0, 'y', true));
        ctx.lineTo(u.valToPos(1, 'x', true), u.valToPos(1, 'y', true));
        ctx.stroke();
        ctx.restore();
      }],
    },
  };
  target.dataset.curves = '10';
  target.dataset.aucs = JSON.stringify(aucs);
  return new uPlot(opts, data as uPlot.AlignedData, target);
}

/** Filter canvases drawn per task. */
const FILTERS_PER_TASK = 8;

/**
 * The first weight layer's filters as small images, blue for negative and red for positive weights,
 * each scaled to its own largest magnitude: a conv layer's [out, in, k, k] kernels, or for an MLP
 * the first 32 rows of the first dense layer's [out, 784] weights seen as 28×28 images. Appended to
 * `target` a few per task: a canvas each costs milliseconds on a slow machine.
 */
export async function filterImages(target: HTMLElement, tensors: Map<string, { shape: number[]; data: Float32Array }>, layers: LayerSpec[]): Promise<string | null> {
  const conv = layers.findIndex((l) => l.type === 'conv2d');
  const denseIndex = layers.findIndex((l) => l.type === 'dense');
  const index = conv >= 0 ? conv : denseIndex;
  const weight = index >= 0 ? tensors.get(`${index}.weight`) : undefined;
  if (!weight) return null;
  const [out, second = 1, kh, kw] = weight.shape;
  const isConv = conv >= 0;
  const side = isConv ? [kh ?? 1, kw ?? 1] : [28, 28];
  const per = isConv ? second * side[0]! * side[1]! : second;
  if (!isConv && second !== 784) return null;
  const count = isConv ? out! : Math.min(out!, 32);
  for (let f = 0; f < count; f++) {
    if (f > 0 && f % FILTERS_PER_TASK === 0) await yieldToEventLoop();
    const values = weight.data.subarray(f * per, (f + 1) * per);
    // Several input channels: show their mean, one image per filter.
    const plane = side[0]! * side[1]!;
    const image = new Float32Array(plane);
    for (let i = 0; i < per; i++) image[i % plane] += values[i]! / (per / plane);
    target.append(weightCanvas(image, side[1]!, side[0]!));
  }
  return isConv ? `conv layer ${index}: ${out} filters of ${second}×${kh}×${kw}` : `dense layer ${index}: first ${count} of ${out} units, as 28×28`;
}

function weightCanvas(values: Float32Array, width: number, height: number): HTMLCanvasElement {
  const canvas = h('canvas', { width, height });
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(width, height);
  const scale = Math.max(1e-12, ...Array.from(values, Math.abs));
  values.forEach((v, i) => {
    const t = v / scale;
    const [r, g, b] = t >= 0 ? lerpRgb([255, 255, 255], [200, 58, 60], t) : lerpRgb([255, 255, 255], [49, 99, 200], -t);
    image.data.set([r, g, b, 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/** Four correct (most confident) and four wrong (most confident mistakes) test predictions. */
export function predictionTiles(probs: Float32Array, test: MnistSet): HTMLElement[] {
  const correct: { i: number; p: number; c: number }[] = [];
  const wrong: { i: number; p: number; c: number }[] = [];
  for (let i = 0; i < test.count; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (probs[i * 10 + k]! > probs[i * 10 + best]!) best = k;
    const entry = { i, p: best, c: probs[i * 10 + best]! };
    (best === test.labels[i] ? correct : wrong).push(entry);
  }
  // Correct ones from different digits, so the row is not four 1s.
  const pickedDigits = new Set<number>();
  correct.sort((a, b) => b.c - a.c);
  const right = correct.filter((e) => !pickedDigits.has(e.p) && pickedDigits.add(e.p)).slice(0, 4);
  for (const e of correct) if (right.length < 4 && !right.includes(e)) right.push(e);
  const mistakes = wrong.sort((a, b) => b.c - a.c).slice(0, 4);
  const tile = (e: { i: number; p: number; c: number }, ok: boolean) =>
    h('div', { class: `tile ${ok ? 'correct' : 'wrong'}`, dataset: { index: String(e.i), label: String(test.labels[e.i]), predicted: String(e.p), confidence: e.c.toFixed(4) } },
      digitCanvas(test.images.subarray(e.i * 784, (e.i + 1) * 784)),
      h('div', {}, 'true ', h('b', {}, String(test.labels[e.i])), ' · predicted ', h('b', {}, String(e.p))),
      h('div', { class: 'faint' }, `${(e.c * 100).toFixed(1)}% sure`));
  return [...right.map((e) => tile(e, true)), ...mistakes.map((e) => tile(e, false))];
}

function lerpRgb(a: number[], b: number[], t: number): [number, number, number] {
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * t)) as [number, number, number];
}

function mix(from: string, to: string, t: number): string {
  const parse = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const [r, g, b] = lerpRgb(parse(from), parse(to), Math.min(1, Math.max(0, t)));
  return `rgb(${r},${g},${b})`;
}

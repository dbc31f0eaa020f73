/**
 * Live learning curves with uPlot: loss and accuracy, training (with partial points inside an epoch,
 * from `logEvery`) and validation per epoch, the learning rate on a second axis, and the best epoch
 * (the one early stopping keeps) marked by a vertical line and a ring on the validation point.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { EpochRecord } from '../src/train/result.ts';
import { h } from './dom.ts';

const COLORS = { train: '#3b63d1', val: '#e0782f', lr: '#a3a8b3', best: '#d1495b' };

type Metric = 'loss' | 'acc';

/** Rows of the charts, one per x (fractional epochs for partial points). */
interface Rows {
  x: number[];
  trainLoss: (number | null)[];
  valLoss: (number | null)[];
  trainAcc: (number | null)[];
  valAcc: (number | null)[];
  lr: (number | null)[];
}

export class Curves {
  readonly element = h('div', { class: 'curves' });
  readonly charts: Record<Metric, uPlot>;
  private rows: Rows = emptyRows();
  private epochs = 1;
  private bestEpoch = 0;
  private epochRecords = 0;

  constructor() {
    const loss = h('div', { class: 'chart', dataset: { chart: 'loss' } });
    const acc = h('div', { class: 'chart', dataset: { chart: 'accuracy' } });
    this.element.append(loss, acc);
    this.charts = { loss: this.makeChart(loss, 'loss'), acc: this.makeChart(acc, 'acc') };
    new ResizeObserver(() => {
      const width = this.element.clientWidth;
      if (width > 0) for (const chart of Object.values(this.charts)) chart.setSize({ width, height: 190 });
    }).observe(this.element);
  }

  reset(epochs: number): void {
    this.rows = emptyRows();
    this.epochs = epochs;
    this.bestEpoch = 0;
    this.epochRecords = 0;
    this.update();
  }

  /** A running training loss/accuracy inside epoch `epoch` after `step` of `steps`. */
  progress(epoch: number, step: number, steps: number, loss: number, accuracy: number, lr: number): void {
    const x = epoch - 1 + step / steps;
    if (step >= steps) return; // the epoch's own record follows with the exact numbers
    this.upsert(x, { trainLoss: loss, trainAcc: accuracy, lr });
  }

  epoch(record: EpochRecord): void {
    this.epochRecords++;
    this.upsert(record.epoch, { trainLoss: record.trainLoss, trainAcc: record.trainAcc, valLoss: record.valLoss, valAcc: record.valAcc, lr: record.lr });
  }

  best(epoch: number): void {
    this.bestEpoch = epoch;
    for (const chart of Object.values(this.charts)) chart.redraw(false, false);
    this.element.dataset.bestEpoch = String(epoch);
  }

  /** The canvas of a chart, for PNG export. */
  canvas(metric: Metric): HTMLCanvasElement {
    return this.charts[metric].ctx.canvas;
  }

  private upsert(x: number, values: Partial<Record<Exclude<keyof Rows, 'x'>, number | null>>): void {
    const r = this.rows;
    let i = r.x.length;
    while (i > 0 && r.x[i - 1]! > x) i--;
    if (i > 0 && Math.abs(r.x[i - 1]! - x) < 1e-9) i--;
    else for (const key of Object.keys(r) as (keyof Rows)[]) (r[key] as unknown[]).splice(i, 0, key === 'x' ? x : null);
    for (const [key, value] of Object.entries(values)) (r[key as keyof Rows] as (number | null)[])[i] = value ?? null;
    this.update();
  }

  private update(): void {
    const r = this.rows;
    this.charts.loss.setData([r.x, r.trainLoss, r.valLoss, r.lr]);
    this.charts.acc.setData([r.x, r.trainAcc, r.valAcc, r.lr]);
    for (const chart of Object.values(this.charts)) chart.setScale('x', { min: 0, max: Math.max(this.epochs, r.x.at(-1) ?? 0) });
    this.element.dataset.points = String(r.x.length);
    this.element.dataset.epochPoints = String(this.epochRecords);
  }

  private makeChart(target: HTMLElement, metric: Metric): uPlot {
    const isAcc = metric === 'acc';
    const value = (_: uPlot, v: number | null) => (v === null || v === undefined ? '–' : isAcc ? `${(v * 100).toFixed(1)}%` : v.toFixed(4));
    const opts: uPlot.Options = {
      width: Math.max(300, target.clientWidth || 480),
      height: 190,
      title: isAcc ? 'Accuracy' : 'Loss',
      scales: { x: { time: false }, y: isAcc ? { range: (_u, min, max) => [Math.max(0, Math.min(min, 0.5)), Math.min(1, Math.max(max, 0.9)) + 0.0001] } : {}, lr: { range: (_u, _min, max) => [0, (max || 1) * 1.15] } },
      axes: [
        { label: 'epoch', stroke: '#5b6475', grid: { stroke: '#eceae4' }, ticks: { stroke: '#e4e2dc' }, incrs: [0.5, 1, 2, 5, 10, 20, 50] },
        { stroke: '#5b6475', grid: { stroke: '#eceae4' }, ticks: { stroke: '#e4e2dc' }, values: (_u, vals) => vals.map((v) => (isAcc ? `${Math.round(v * 100)}%` : String(+v.toFixed(3)))), size: 48 },
        { scale: 'lr', side: 1, stroke: COLORS.lr, grid: { show: false }, ticks: { stroke: '#e4e2dc' }, values: (_u, vals) => vals.map(formatLr), size: 52, label: 'lr' },
      ],
      series: [
        { label: 'epoch', value: (_u, v) => (v === null ? '–' : v.toFixed(2)) },
        { label: 'train', stroke: COLORS.train, width: 2, spanGaps: true, value, points: { size: 4 } },
        { label: 'validation', stroke: COLORS.val, width: 2, spanGaps: true, value, points: { show: true, size: 6, fill: COLORS.val } },
        { label: 'learning rate', scale: 'lr', stroke: COLORS.lr, width: 1.25, dash: [4, 4], spanGaps: true, value: (_u, v) => (v === null ? '–' : v.toExponential(2)), points: { show: false } },
      ],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      hooks: { draw: [(u) => this.drawBest(u, isAcc ? this.rows.valAcc : this.rows.valLoss)] },
    };
    return new uPlot(opts, [[], [], [], []], target);
  }

  /** Dashed line at the best epoch, a ring on its validation point, and a small label. */
  private drawBest(u: uPlot, val: (number | null)[]): void {
    if (this.bestEpoch <= 0) return;
    const ctx = u.ctx;
    const x = u.valToPos(this.bestEpoch, 'x', true);
    const { top, height } = u.bbox;
    const ratio = window.devicePixelRatio || 1;
    ctx.save();
    ctx.strokeStyle = COLORS.best;
    ctx.lineWidth = ratio;
    ctx.setLineDash([3 * ratio, 3 * ratio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.setLineDash([]);
    const i = this.rows.x.findIndex((v) => Math.abs(v - this.bestEpoch) < 1e-9);
    const y = i >= 0 ? val[i] : null;
    if (y !== null && y !== undefined) {
      ctx.lineWidth = 2 * ratio;
      ctx.beginPath();
      ctx.arc(x, u.valToPos(y, 'y', true), 6 * ratio, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.fillStyle = COLORS.best;
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    ctx.textAlign = x > u.bbox.left + u.bbox.width - 60 * ratio ? 'right' : 'left';
    ctx.fillText(`best epoch ${this.bestEpoch}`, x + (ctx.textAlign === 'right' ? -5 : 5) * ratio, top + 12 * ratio);
    ctx.restore();
  }
}

/** 0.001 → "1e-3", 0.0005 → "5e-4", 0 → "0". */
function formatLr(v: number): string {
  return v === 0 ? '0' : v.toExponential(0).replace('e+', 'e');
}

function emptyRows(): Rows {
  return { x: [], trainLoss: [], valLoss: [], trainAcc: [], valAcc: [], lr: [] };
}

/**
 * The data section: which training digits are kept (all, the study's 10% for 0/4/7, or a slider per
 * digit), how many training images a run may use, the class distribution of train / validation /
 * test as grouped bars, and a grid of sample images.
 */
import type { Mnist } from '../src/data/mnist.ts';
import { buildSplits, classCounts } from '../src/data/split.ts';
import { FULL_KEEP, STUDY_KEEP } from '../src/train/config.ts';
import { card, fmt, h, hiDpiCanvas, putDigit } from './dom.ts';
import { canvasPng, download } from './export.ts';

export type Distribution = 'full' | 'study' | 'custom';

export interface DataChoice {
  distribution: Distribution;
  keep: number[];
  trainLimit: number | null;
}

/** The split a network panel would make (its validation fraction and seed). */
export interface SplitSource {
  name: string;
  valFraction: number;
  seed: number;
}

interface Counts {
  train: number[];
  val: number[];
  test: number[];
}

const COLORS = { train: '#3b63d1', val: '#e0782f', test: '#a7acb6' };

export class DataPanel {
  readonly choice: DataChoice;
  private readonly listeners: (() => void)[] = [];
  private mnist: Mnist | null = null;
  private sources: SplitSource[] = [];
  private sourceIndex = 0;
  private counts: Counts | null = null;
  private readonly chart = h('canvas', { class: 'dist' });
  private readonly tooltip = h('div', { class: 'tooltip', hidden: true });
  private readonly totals = h('div', { class: 'legend' });
  private readonly sourceToggle = h('div', { class: 'segmented' });
  private readonly sliders = h('div', { class: 'keep-sliders' });
  private readonly modeButtons = new Map<Distribution, HTMLButtonElement>();
  private readonly samples = h('canvas', { width: 28 * 10 + 9 * 2, height: 28 * 5 + 4 * 2 });
  private readonly limitInput: HTMLInputElement;
  private readonly limitError = h('div', { class: 'field-error' });

  constructor(root: HTMLElement, trainLimit: number | null) {
    this.choice = { distribution: 'full', keep: [...FULL_KEEP], trainLimit };
    this.limitInput = h('input', { type: 'number', min: 1, max: 60000, step: 1, value: trainLimit ?? '', placeholder: 'all 60,000', oninput: () => this.readLimit() });
    const png = h('button', { class: 'small ghost', title: 'Save the chart as PNG', onclick: () => this.savePng() }, 'PNG');
    const chartCard = card('Class distribution', [this.sourceToggle, png],
      h('div', { class: 'dist-canvas-wrap' }, this.chart, this.tooltip), this.totals);
    chartCard.dataset.panel = 'distribution';
    const modes = h('div', { class: 'segmented' });
    for (const [mode, label] of [['full', 'All digits'], ['study', "The study's distribution"], ['custom', 'Custom']] as const) {
      const button = h('button', { onclick: () => this.setMode(mode) }, label);
      this.modeButtons.set(mode, button);
      modes.append(button);
    }
    const controls = card('Training digits', [],
      modes,
      h('p', { class: 'faint' }, 'The study kept digits 0, 4 and 7 at 10%: its models never learned them. The test set always holds all 10,000 images.'),
      this.sliders,
      h('label', { class: 'inline-field', style: 'margin-top:12px' }, 'Training images used', this.limitInput),
      this.limitError,
    );
    const samples = card('Samples', [], h('div', { class: 'samples' }, this.samples));
    root.append(chartCard, h('div', { class: 'data-controls' }, controls, samples));
    this.buildSliders();
    this.setMode('full');
    this.chart.addEventListener('mousemove', (e) => this.hover(e));
    this.chart.addEventListener('mouseleave', () => (this.tooltip.hidden = true));
    new ResizeObserver(() => this.draw()).observe(this.chart);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Error message of the training-images field, or null. */
  get limitProblem(): string | null {
    return this.limitError.textContent || null;
  }

  setMnist(mnist: Mnist): void {
    this.mnist = mnist;
    this.drawSamples();
    this.recount();
  }

  setSources(sources: SplitSource[]): void {
    const changed = JSON.stringify(sources) !== JSON.stringify(this.sources);
    this.sources = sources;
    if (!changed) return;
    this.sourceToggle.replaceChildren(...sources.map((s, i) =>
      h('button', { class: i === this.sourceIndex ? 'active' : '', title: `Split as the ${s.name} panel makes it`, onclick: () => { this.sourceIndex = i; this.setSources([...sources]); this.recount(); } }, s.name)));
    this.recount();
  }

  private setMode(mode: Distribution): void {
    this.choice.distribution = mode;
    if (mode === 'full') this.choice.keep = [...FULL_KEEP];
    if (mode === 'study') this.choice.keep = [...STUDY_KEEP];
    for (const [m, button] of this.modeButtons) button.classList.toggle('active', m === mode);
    this.syncSliders();
    this.changed();
  }

  private buildSliders(): void {
    for (let digit = 0; digit < 10; digit++) {
      const value = h('span', { class: 'num' });
      const slider = h('input', { type: 'range', min: 0, max: 1, step: 0.05, dataset: { digit: String(digit) } });
      slider.addEventListener('input', () => {
        this.choice.keep[digit] = Number(slider.value);
        this.choice.distribution = 'custom';
        for (const [m, button] of this.modeButtons) button.classList.toggle('active', m === 'custom');
        this.syncSliders();
        this.changed();
      });
      this.sliders.append(h('label', {}, h('span', {}, `digit ${digit} · `, value), slider));
    }
  }

  private syncSliders(): void {
    this.sliders.querySelectorAll('label').forEach((label, digit) => {
      label.querySelector('input')!.value = String(this.choice.keep[digit]);
      label.querySelector('.num')!.textContent = `${Math.round(this.choice.keep[digit]! * 100)}%`;
    });
  }

  private readLimit(): void {
    const raw = this.limitInput.value.trim();
    const value = Number(raw);
    if (raw === '') this.choice.trainLimit = null;
    else if (Number.isInteger(value) && value >= 1 && value <= 60000) this.choice.trainLimit = value;
    const bad = raw !== '' && !(Number.isInteger(value) && value >= 1 && value <= 60000);
    this.limitInput.classList.toggle('invalid', bad);
    this.limitError.textContent = bad ? `train limit ${JSON.stringify(raw)} is not allowed: a whole number from 1 to 60000 (empty = all)` : '';
    this.changed();
  }

  private changed(): void {
    this.recount();
    for (const listener of this.listeners) listener();
  }

  private recount(): void {
    if (!this.mnist) return this.draw();
    const source = this.sources[this.sourceIndex] ?? { name: '', valFraction: 0.2, seed: 1 };
    const test = classCounts(this.mnist.test.labels, Uint32Array.from({ length: this.mnist.test.count }, (_, i) => i));
    try {
      const valFraction = source.valFraction >= 0 && source.valFraction < 1 ? source.valFraction : 0.2;
      const splits = buildSplits(this.mnist.train.labels, { ...this.choice, valFraction, seed: Number.isSafeInteger(source.seed) ? source.seed : 1 });
      this.counts = { ...splits.classCounts, test };
    } catch {
      this.counts = { train: new Array(10).fill(0), val: new Array(10).fill(0), test };
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    this.totals.replaceChildren(
      ...(['train', 'val', 'test'] as const).map((set) =>
        h('span', { style: `--swatch:${COLORS[set]}`, dataset: { set, total: String(sum(this.counts![set])) } }, `${set === 'val' ? 'validation' : set} ${fmt.int(sum(this.counts![set]))}`)),
    );
    this.chart.dataset.counts = JSON.stringify(this.counts);
    this.draw();
  }

  private layout() {
    const width = this.chart.clientWidth || 600;
    const height = 300;
    const pad = { left: 44, right: 8, top: 10, bottom: 24 };
    return { width, height, pad, group: (width - pad.left - pad.right) / 10 };
  }

  private draw(): void {
    const { width, height, pad, group } = this.layout();
    const ctx = hiDpiCanvas(this.chart, width, height);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    if (!this.counts) {
      ctx.fillStyle = '#9299a6';
      ctx.fillText('Loading MNIST…', pad.left, height / 2);
      return;
    }
    const max = Math.max(1, ...this.counts.train, ...this.counts.val, ...this.counts.test);
    const step = niceStep(max / 4);
    const top = Math.ceil(max / step) * step;
    const y = (v: number) => pad.top + (height - pad.top - pad.bottom) * (1 - v / top);
    ctx.strokeStyle = '#eceae4';
    ctx.fillStyle = '#9299a6';
    ctx.textAlign = 'right';
    for (let v = 0; v <= top; v += step) {
      ctx.beginPath();
      ctx.moveTo(pad.left, Math.round(y(v)) + 0.5);
      ctx.lineTo(width - pad.right, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.fillText(fmt.int(v), pad.left - 6, y(v) + 4);
    }
    const bar = Math.min(16, (group - 10) / 3);
    ctx.textAlign = 'center';
    for (let digit = 0; digit < 10; digit++) {
      const x0 = pad.left + digit * group + (group - 3 * bar - 4) / 2;
      (['train', 'val', 'test'] as const).forEach((set, k) => {
        const v = this.counts![set][digit]!;
        ctx.fillStyle = COLORS[set];
        const x = x0 + k * (bar + 2);
        roundedBar(ctx, x, y(v), bar, y(0) - y(v));
      });
      ctx.fillStyle = '#5b6475';
      ctx.font = '600 12px system-ui, sans-serif';
      ctx.fillText(String(digit), pad.left + digit * group + group / 2, height - 6);
      ctx.font = '11px system-ui, sans-serif';
    }
  }

  private hover(event: MouseEvent): void {
    if (!this.counts) return;
    const { pad, group } = this.layout();
    const digit = Math.floor((event.offsetX - pad.left) / group);
    if (digit < 0 || digit > 9) return void (this.tooltip.hidden = true);
    const c = this.counts;
    this.tooltip.textContent = `digit ${digit}: train ${fmt.int(c.train[digit]!)} · validation ${fmt.int(c.val[digit]!)} · test ${fmt.int(c.test[digit]!)}`;
    this.tooltip.style.left = `${pad.left + digit * group + group / 2}px`;
    this.tooltip.style.top = `${event.offsetY}px`;
    this.tooltip.hidden = false;
  }

  /** Five examples of each digit from the training set, one column per digit. */
  private drawSamples(): void {
    const mnist = this.mnist!;
    const ctx = this.samples.getContext('2d')!;
    ctx.fillStyle = '#f6f5f1';
    ctx.fillRect(0, 0, this.samples.width, this.samples.height);
    const found: number[][] = Array.from({ length: 10 }, () => []);
    for (let i = 0; i < mnist.train.count && found.some((f) => f.length < 5); i++) {
      const label = mnist.train.labels[i]!;
      if (found[label]!.length < 5) found[label]!.push(i);
    }
    found.forEach((indices, digit) => indices.forEach((index, row) => {
      putDigit(ctx, mnist.train.images.subarray(index * 784, (index + 1) * 784), digit * 30, row * 30);
    }));
  }

  private async savePng(): Promise<void> {
    download('class-distribution.png', await canvasPng(this.chart));
  }
}

function roundedBar(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, hgt: number): void {
  if (hgt <= 0) return;
  const r = Math.min(2.5, w / 2, hgt);
  ctx.beginPath();
  ctx.moveTo(x, y + hgt);
  ctx.lineTo(x, y + r);
  ctx.quadraticCurveTo(x, y, x + r, y);
  ctx.lineTo(x + w - r, y);
  ctx.quadraticCurveTo(x + w, y, x + w, y + r);
  ctx.lineTo(x + w, y + hgt);
  ctx.fill();
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
export function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-12)));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

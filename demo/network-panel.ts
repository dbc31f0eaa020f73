/**
 * One network's column: its settings, train / pause / stop, progress within the epoch, live curves,
 * and once trained the test results and exports. Runs go through the engine's `train()`; the panel
 * only listens (onProgress, onEpoch) and steers (shouldContinue).
 */
import type uPlot from 'uplot';
import type { Gpu } from '../src/gpu/gpu.ts';
import type { Mnist } from '../src/data/mnist.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { DeviceData } from '../src/engine/device-data.ts';
import type { EpochRecord, RunResult } from '../src/train/result.ts';
import type { TrainOutcome } from '../src/train/trainer.ts';
import type { Progress } from '../src/train/step-program.ts';
import { yieldToEventLoop } from '../src/yield.ts';
import { ConfigForm } from './config-form.ts';
import { Curves } from './curves.ts';
import type { DataChoice } from './data-panel.ts';
import { card, fmt, h } from './dom.ts';
import type { Engine } from './engine.ts';
import { canvasPng, download, gridPng, metricsCsv, runJson, safeName } from './export.ts';
import { Predictor } from './predict.ts';
import { confusionCanvas, filterImages, headline, predictionTiles, reportTable, rocChart } from './results.ts';

export type PanelState = 'idle' | 'training' | 'paused' | 'done' | 'error';

export interface PanelContext {
  gpu: Gpu;
  mnist: Mnist;
  data: DeviceData;
  engine: Engine;
}

export interface PanelOptions {
  name: string;
  accent: string;
  presets: string[];
  startPreset: string;
  defaults: Partial<TrainConfig>;
  overrides: Partial<TrainConfig>;
  dataChoice: () => DataChoice;
  /** Training images of the split for a validation fraction (null until MNIST is loaded). */
  trainPool: (valFraction: number) => number | null;
  /** A problem elsewhere (the data panel) that must block training, or null. */
  blocker: () => string | null;
}

export interface PanelEvents {
  /** Settings changed (the data panel redraws its split preview). */
  changed(): void;
  /** A run started or ended: only one network trains at a time. */
  busy(training: boolean): void;
  /** A trained model for the drawing pad; null once released (the kernel view then forgets it too). */
  model(predictor: Predictor | null, note: string): void;
  /** A finished run, for the kernel view. */
  finished(outcome: TrainOutcome, trainCount: number): Promise<void> | void;
}

export class NetworkPanel {
  readonly form: ConfigForm;
  private state: PanelState = 'idle';
  private context: PanelContext | null = null;
  private outcome: TrainOutcome | null = null;
  private predictor: Predictor | null = null;
  private result: RunResult | null = null;
  private valid = false;
  private othersBusy = false;
  private stopRequested = false;
  private resume: ((go: boolean) => void) | null = null;
  /**
   * Counts this panel's runs. A run's train() outlives its 'done' state (the kernel view profiles its
   * step, which can take seconds while pipelines compile in the background), so Train can start the next
   * run before it returns: what it resets on the way out must still be its own.
   */
  private runs = 0;
  private best = { epoch: 0, score: Infinity };
  private pendingProgress: { progress: Progress; lr: number } | null = null;
  private rocPlot: uPlot | null = null;
  private deviceLost: string | null = null;

  private readonly trainButton = h('button', { class: 'train', onclick: () => void this.train() }, 'Train');
  private readonly pauseButton = h('button', { disabled: true, onclick: () => this.togglePause() }, 'Pause');
  private readonly stopButton = h('button', { disabled: true, onclick: () => this.stop() }, 'Stop');
  private readonly statusLine = h('span', { class: 'status-line', dataset: { role: 'status' } }, 'Ready');
  private readonly bar = h('div', {});
  private readonly stats = {
    epoch: h('span', { class: 'stat-value', dataset: { stat: 'epoch' } }, '–'),
    rate: h('span', { class: 'stat-value', dataset: { stat: 'rate' } }, '–'),
    loss: h('span', { class: 'stat-value', dataset: { stat: 'loss' } }, '–'),
    acc: h('span', { class: 'stat-value', dataset: { stat: 'accuracy' } }, '–'),
  };
  private readonly notice = h('div', { class: 'notice', dataset: { role: 'notice' } });
  private readonly curves = new Curves();
  private readonly results = h('div', { class: 'results', hidden: true });

  constructor(
    private readonly root: HTMLElement,
    private readonly options: PanelOptions,
    private readonly events: PanelEvents,
  ) {
    this.form = new ConfigForm(options.presets, options.startPreset, options.overrides, options.defaults);
    this.form.onChange(() => {
      this.revalidate();
      events.changed();
    });
    const stat = (label: string, value: HTMLElement) => h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value);
    const png = (metric: 'loss' | 'acc') => h('button', { class: 'small ghost', onclick: () => void this.savePng(this.curves.canvas(metric), metric === 'acc' ? 'accuracy' : 'loss') }, `${metric === 'acc' ? 'accuracy' : 'loss'} PNG`);
    root.append(
      h('div', { class: 'network-title' }, h('h3', {}, options.name), h('span', { class: 'faint' }, options.name === 'MLP' ? 'dense layers only' : 'convolutions, then dense layers')),
      this.form.element,
      h('div', { class: 'card' },
        h('div', { class: 'controls' }, this.trainButton, this.pauseButton, this.stopButton, this.statusLine),
        h('div', { class: 'progress', dataset: { role: 'progress' } }, this.bar),
        h('div', { class: 'stats' }, stat('epoch', this.stats.epoch), stat('samples / s', this.stats.rate), stat('loss', this.stats.loss), stat('accuracy', this.stats.acc)),
        this.notice),
      card('Learning curves', [png('loss'), png('acc')], this.curves.element),
      this.results,
    );
    this.setState('idle');
  }

  get name(): string {
    return this.options.name;
  }

  get isBusy(): boolean {
    return this.state === 'training' || this.state === 'paused';
  }

  /** GPU, data and engine are ready: Train can be enabled (when the form is valid). */
  attach(context: PanelContext): void {
    this.context = context;
    this.form.engine = context.engine;
    this.revalidate();
  }

  setOthersBusy(busy: boolean): void {
    this.othersBusy = busy;
    this.updateButtons();
  }

  /** The device is gone: keep everything shown, say so, and train no more. */
  loseDevice(reason: string): void {
    this.deviceLost = reason;
    if (!this.isBusy) this.notice.textContent = `The GPU device was lost (${reason}). What this panel shows is kept; reload the page to train again.`;
    this.updateButtons();
  }

  revalidate(): void {
    const check = this.form.check(this.options.dataChoice(), this.options.trainPool);
    this.form.showSummary(check.layers, check.shapes);
    const blocker = this.options.blocker();
    this.valid = check.config !== null && blocker === null;
    this.root.dataset.valid = String(this.valid);
    this.root.dataset.errors = JSON.stringify(blocker ? [...check.messages, blocker] : check.messages);
    this.updateButtons();
  }

  /** Trains with the form's settings; resolves when the run ends (finished, stopped or failed). */
  async train(): Promise<void> {
    const check = this.form.check(this.options.dataChoice(), this.options.trainPool);
    if (!this.context || !check.config || this.isBusy || this.deviceLost) return;
    const { gpu, mnist, data, engine } = this.context;
    const config = withLogEvery(check.config, this.options.trainPool(check.config.valFraction) ?? 1);
    const run = ++this.runs;
    this.releaseModel();
    this.prepareRun(config);
    this.events.busy(true);
    try {
      const outcome = await engine.train(gpu, data, mnist, config, {
        onProgress: (progress) => this.progress(progress, config),
        onEpoch: (record) => this.epoch(record, config),
        shouldContinue: () => this.shouldContinue(),
      });
      this.outcome = outcome;
      this.result = outcome.result;
      await this.finish(outcome, config);
    } catch (error) {
      this.setState('error');
      this.notice.textContent = `Training failed: ${(error as Error).message}`;
      this.statusLine.textContent = 'Failed';
    } finally {
      // A later run's pause hook and busy state are not this run's to clear.
      if (run === this.runs) {
        this.resume = null;
        this.events.busy(false);
        this.updateButtons();
      }
    }
  }

  private prepareRun(config: TrainConfig): void {
    this.stopRequested = false;
    this.best = { epoch: 0, score: Infinity };
    this.pendingProgress = null;
    this.result = null;
    this.curves.reset(config.epochs);
    this.results.hidden = true;
    this.results.replaceChildren();
    this.rocPlot?.destroy();
    this.rocPlot = null;
    this.notice.textContent = '';
    this.bar.style.width = '0';
    this.stats.epoch.textContent = `0 / ${config.epochs}`;
    this.stats.rate.textContent = '–';
    this.stats.loss.textContent = '–';
    this.stats.acc.textContent = '–';
    this.statusLine.textContent = 'Preparing the run…';
    this.setState('training');
  }

  private progress(progress: Progress, config: TrainConfig): void {
    const lr = config.stepSize > 0 ? config.lr * Math.pow(config.gamma, Math.floor((progress.epoch - 1) / config.stepSize)) : config.lr;
    if (progress.loss !== undefined && progress.accuracy !== undefined) {
      this.curves.progress(progress.epoch, progress.step, progress.steps, progress.loss, progress.accuracy, lr);
    }
    // DOM text and the bar at most once per frame.
    const first = this.pendingProgress === null;
    this.pendingProgress = { progress, lr };
    if (first) requestAnimationFrame(() => this.paintProgress());
  }

  private paintProgress(): void {
    const pending = this.pendingProgress;
    this.pendingProgress = null;
    if (!pending || !this.isBusy) return;
    const p = pending.progress;
    this.bar.style.width = `${((p.step / p.steps) * 100).toFixed(1)}%`;
    this.stats.epoch.textContent = `${p.epoch} / ${p.epochs}`;
    this.stats.rate.textContent = p.samplesPerSecond === null ? '–' : fmt.rate(p.samplesPerSecond);
    if (p.loss !== undefined) this.stats.loss.textContent = fmt.num(p.loss);
    if (p.accuracy !== undefined) this.stats.acc.textContent = fmt.pct(p.accuracy);
    if (this.state === 'training') this.statusLine.textContent = `Epoch ${p.epoch}, step ${p.step} of ${p.steps} · lr ${pending.lr.toExponential(1)}`;
  }

  private epoch(record: EpochRecord, config: TrainConfig): void {
    this.curves.epoch(record);
    const score = config.monitor === 'val_acc' ? -(record.valAcc ?? record.trainAcc) : (record.valLoss ?? record.trainLoss);
    if (score < this.best.score) {
      this.best = { epoch: record.epoch, score };
      this.curves.best(record.epoch);
    }
    this.stats.epoch.textContent = `${record.epoch} / ${config.epochs}`;
    this.stats.loss.textContent = fmt.num(record.trainLoss);
    this.stats.acc.textContent = fmt.pct(record.trainAcc);
    this.statusLine.textContent = `Epoch ${record.epoch} done: validation ${fmt.pct(record.valAcc)}`;
  }

  private shouldContinue(): boolean | Promise<boolean> {
    if (this.stopRequested || this.deviceLost) return false;
    if (this.state !== 'paused') return true;
    return new Promise((resolve) => (this.resume = resolve));
  }

  private togglePause(): void {
    if (this.state === 'training') {
      this.setState('paused');
      this.statusLine.textContent = 'Paused';
    } else if (this.state === 'paused') {
      this.setState('training');
      this.statusLine.textContent = 'Resuming…';
      this.resume?.(true);
      this.resume = null;
    }
  }

  private stop(): void {
    this.stopRequested = true;
    this.statusLine.textContent = 'Stopping…';
    this.resume?.(false);
    this.resume = null;
  }

  /** Results of a finished (or cut short) run; each part gets its own task so no task runs long. */
  private async finish(outcome: TrainOutcome, config: TrainConfig): Promise<void> {
    const result = outcome.result;
    this.bar.style.width = '100%';
    if (result.bestEpoch > 0) this.curves.best(result.bestEpoch);
    const stoppedEarly = result.stoppedEarly ? ` Early stopping ended it after epoch ${result.epochs.length}; the weights are epoch ${result.bestEpoch}'s.` : '';
    this.notice.textContent = result.interrupted ? `The run was cut short: ${result.interrupted}. What it learned until then is kept below.${stoppedEarly}` : stoppedEarly.trim();
    const tested = result.test.confusion.length > 0;
    if (tested) await this.showResults(outcome, config);
    this.setState(tested ? 'done' : result.interrupted ? 'error' : 'done');
    this.statusLine.textContent = tested
      ? `Done: test accuracy ${fmt.pct(result.test.accuracy)} · ${speedLine(result)}`
      : 'Stopped before any epoch finished';
    if (tested && !this.deviceLost) {
      this.predictor = new Predictor(this.context!.gpu, outcome.model);
      this.events.model(this.predictor, `test accuracy ${fmt.pct(result.test.accuracy)}`);
      await this.events.finished(outcome, result.data.train);
    }
  }

  private async showResults(outcome: TrainOutcome, config: TrainConfig): Promise<void> {
    const { result, testProbs } = outcome;
    const mnist = this.context!.mnist;
    const accent = getComputedStyle(this.root).getPropertyValue('--accent').trim() || '#3b63d1';
    this.results.hidden = false;
    let confusion: HTMLCanvasElement | undefined;
    const png = (canvas: () => HTMLCanvasElement | undefined, what: string) => h('button', { class: 'small ghost', onclick: () => { const c = canvas(); if (c) void this.savePng(c, what); } }, 'PNG');
    const rocTarget = h('div', { class: 'chart', dataset: { chart: 'roc' } });
    const filters = h('div', { class: 'filters', dataset: { role: 'filters' } });
    const saveFilters = () => void this.saveBlob(gridPng([...filters.querySelectorAll('canvas')]), 'filters');
    const filterNote = h('p', { class: 'faint' });
    const tiles = h('div', { class: 'predictions', dataset: { role: 'predictions' } });
    const confusionCard = h('div', { class: 'card heat', dataset: { panel: 'confusion' } }, h('div', { class: 'card-head' }, h('h4', {}, 'Confusion matrix'), png(() => confusion, 'confusion')));
    const reportCard = h('div', { class: 'card', dataset: { panel: 'report' } }, h('div', { class: 'card-head' }, h('h4', {}, 'Classification report')));
    const exports = h('div', { class: 'exports' },
      h('button', { onclick: () => download(`${this.fileStem()}.json`, runJson(result)) }, 'Run JSON'),
      h('button', { onclick: () => download(`${this.fileStem()}-metrics.csv`, metricsCsv(result)) }, 'Metrics CSV'),
      h('button', { onclick: () => void this.savePng(this.curves.canvas('loss'), 'loss') }, 'Loss PNG'),
      h('button', { onclick: () => void this.savePng(this.curves.canvas('acc'), 'accuracy') }, 'Accuracy PNG'),
      h('button', { onclick: () => { if (confusion) void this.savePng(confusion, 'confusion'); } }, 'Confusion PNG'),
      h('button', { onclick: () => { if (this.rocPlot) void this.savePng(this.rocPlot.ctx.canvas, 'roc'); } }, 'ROC PNG'),
      h('button', { onclick: saveFilters }, 'Filters PNG'));
    this.results.append(
      card('Test set', [], headline(result)),
      confusionCard,
      reportCard,
      h('div', { class: 'card', dataset: { panel: 'roc' } }, h('div', { class: 'card-head' }, h('h4', {}, 'ROC curves'), png(() => this.rocPlot?.ctx.canvas, 'roc')), rocTarget),
      h('div', { class: 'card', dataset: { panel: 'filters' } }, h('div', { class: 'card-head' }, h('h4', {}, 'Learned first-layer filters'), h('button', { class: 'small ghost', onclick: saveFilters }, 'PNG')), filters, filterNote),
      h('div', { class: 'card', dataset: { panel: 'predictions' } }, h('div', { class: 'card-head' }, h('h4', {}, 'Four right, four wrong'), h('span', { class: 'faint' }, 'most confident of each')), tiles),
      card('Export', [], exports),
    );
    // One part per task: drawn together they held the main thread for over 100 ms on a slow machine.
    await yieldToEventLoop();
    confusion = confusionCanvas(result.test.confusion, accent);
    confusionCard.append(confusion);
    await yieldToEventLoop();
    reportCard.append(reportTable(result.test));
    await yieldToEventLoop();
    tiles.append(...predictionTiles(testProbs, mnist.test));
    await yieldToEventLoop();
    this.rocPlot = rocChart(rocTarget, result.test, Math.max(300, rocTarget.clientWidth || 480));
    try {
      const kind = await filterImages(filters, await outcome.model.exportTensors(), config.layers);
      filterNote.textContent = kind ? `${kind}; red positive, blue negative weights.` : 'This network has no first weight layer to show.';
    } catch (error) {
      filterNote.textContent = `The weights could not be read: ${(error as Error).message}`;
    }
    filters.dataset.count = String(filters.childElementCount);
  }

  private releaseModel(): void {
    this.events.model(null, '');
    this.predictor?.destroy();
    this.predictor = null;
    this.outcome?.release();
    this.outcome = null;
  }

  private setState(state: PanelState): void {
    this.state = state;
    this.root.dataset.state = state;
    this.updateButtons();
  }

  private updateButtons(): void {
    const busy = this.isBusy;
    this.trainButton.disabled = busy || !this.valid || !this.context || this.othersBusy || this.deviceLost !== null;
    this.trainButton.title = !this.valid ? 'Fix the marked settings first' : this.othersBusy ? 'The other network is training' : '';
    this.pauseButton.disabled = !busy;
    this.pauseButton.textContent = this.state === 'paused' ? 'Resume' : 'Pause';
    this.stopButton.disabled = !busy;
  }

  get canTrain(): boolean {
    return this.valid && this.context !== null && !this.isBusy && this.deviceLost === null;
  }

  get lastResult(): RunResult | null {
    return this.result;
  }

  private fileStem(): string {
    return safeName(`wgsl-nn-${this.options.name}-${this.result?.preset ?? 'run'}`);
  }

  private savePng(canvas: HTMLCanvasElement, what: string): Promise<void> {
    return this.saveBlob(canvasPng(canvas), what);
  }

  private async saveBlob(png: Promise<Blob>, what: string): Promise<void> {
    download(`${this.fileStem()}-${what}.png`, await png);
  }
}

/** The same figures as the live "samples / s" (set-up apart), so the two agree. */
function speedLine(result: RunResult): string {
  const t = result.throughput;
  const setup = `set-up ${(t.setupMs / 1000).toFixed(1)} s · ready in ${t.compileMs.toFixed(0)} ms${t.quickSteps > 0 ? ` (${t.quickSteps} steps on textbook kernels)` : ''}`;
  return t.measuredSteps > 0 ? `${fmt.rate(t.samplesPerSecond)} samples/s (${t.stepMs.toFixed(1)} ms/step) · ${setup}` : setup;
}

/** Partial points on the curves: about ten readbacks per epoch (at least one step apart). */
function withLogEvery(config: TrainConfig, trainCount: number): TrainConfig {
  const steps = Math.ceil(trainCount / config.batchSize);
  return { ...config, logEvery: Math.max(1, Math.ceil(steps / 10)) };
}

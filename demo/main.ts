/**
 * The demo page, top to bottom: find WebGPU (or say plainly why not), load MNIST, then two network
 * panels that train one at a time, a drawing pad both trained networks read, and the kernel view.
 */
import './style.css';
import { fetchFromServer, loadMnist, type Mnist } from '../src/data/mnist.ts';
import { Gpu } from '../src/gpu/gpu.ts';
import { KERNEL_CHOICES, type KernelChoice } from '../src/gpu/target.ts';
import type { TrainConfig } from '../src/train/config.ts';
import { uploadMnist } from '../src/engine/device-data.ts';
import { DataPanel } from './data-panel.ts';
import { h } from './dom.ts';
import { DrawPad } from './draw.ts';
import { loadEngine } from './engine.ts';
import { KernelView } from './kernels.ts';
import { NetworkPanel, type PanelContext } from './network-panel.ts';
import { readParams } from './params.ts';

const ACCENTS = { MLP: '#3b63d1', CNN: '#0e8f7e' };
const params = readParams();
const $ = (id: string) => document.getElementById(id)!;

const overrides: Partial<TrainConfig> = {
  ...(params.epochs !== null ? { epochs: params.epochs } : {}),
  ...(params.batchSize !== null ? { batchSize: params.batchSize } : {}),
};

const trainBoth = $('train-both') as HTMLButtonElement;
let bothRunning = false;
const dataPanel = new DataPanel($('data-body'), params.trainLimit);
let mnist: Mnist | null = null;
let gpu: Gpu | null = null;

/** Training images a run would get for a validation fraction: kept pool minus the validation part. */
function trainPool(valFraction: number): number | null {
  if (!mnist || !(valFraction >= 0 && valFraction < 1)) return null;
  const { keep, trainLimit } = dataPanel.choice;
  const perDigit = new Array<number>(10).fill(0);
  const limit = Math.min(trainLimit ?? mnist.train.count, mnist.train.count);
  for (let i = 0; i < limit; i++) perDigit[mnist.train.labels[i]!]++;
  const pool = perDigit.reduce((sum, count, digit) => sum + Math.round(keep[digit]! * count), 0);
  return pool - Math.floor(pool * valFraction);
}

const kernelView = new KernelView();
$('kernels-body').append(kernelView.element);

const draw = new DrawPad($('draw-body'), [{ name: 'MLP', accent: ACCENTS.MLP }, { name: 'CNN', accent: ACCENTS.CNN }]);

function makePanel(name: 'MLP' | 'CNN', presets: string[], startPreset: string, defaults: Partial<TrainConfig>): NetworkPanel {
  return new NetworkPanel($(`net-${name.toLowerCase()}`), {
    name, accent: ACCENTS[name], presets, startPreset, defaults, overrides,
    dataChoice: () => dataPanel.choice,
    trainPool,
    blocker: () => dataPanel.limitProblem,
  }, {
    changed: () => {
      updateSplitSources();
      updateTrainBoth();
    },
    busy: (training) => {
      for (const panel of panels) if (panel.name !== name) panel.setOthersBusy(training);
      kernelView.setTraining(panels.some((p) => p.isBusy));
      updateTrainBoth();
    },
    model: (predictor, note) => {
      draw.setPredictor(name, predictor, note);
      if (!predictor) kernelView.forget(name);
    },
    finished: (outcome, trainCount) => kernelView.finished(name, outcome.model, outcome.result.config, trainCount),
  });
}

const panels = [
  makePanel('MLP', ['custom', 'mlp-192', 'mlp-392', 'mlp-128-64', 'task1-best'], params.mlpPreset ?? 'custom', { hidden: [128, 64] }),
  makePanel('CNN', ['custom', 'cnn-arch1', 'cnn-arch2', 'cnn-arch3', 'cnn-arch4', 'task2-best'], params.cnnPreset ?? 'custom', {
    convs: [{ out: 16, kernel: 5, stride: 2, padding: 0 }, { out: 8, kernel: 3, stride: 1, padding: 0 }],
    hidden: [64],
  }),
];
dataPanel.onChange(() => {
  panels.forEach((p) => p.revalidate());
  updateTrainBoth();
});

function updateSplitSources(): void {
  dataPanel.setSources(panels.map((p) => ({ name: p.name, ...p.form.splitSource })));
}
updateSplitSources();

function updateTrainBoth(): void {
  trainBoth.disabled = bothRunning || panels.some((p) => p.isBusy) || !panels.every((p) => p.canTrain);
}
trainBoth.addEventListener('click', () => void runBoth());

async function runBoth(): Promise<void> {
  bothRunning = true;
  updateTrainBoth();
  try {
    for (const panel of panels) await panel.train();
  } finally {
    bothRunning = false;
    updateTrainBoth();
  }
}

let dataRef: PanelContext['data'] | null = null;

/** `?kernels=` as the CLI's --kernels: a choice the page does not know is said in the banner, and auto runs. */
function pageKernels(): KernelChoice {
  if (params.kernels === null) return 'auto';
  if (KERNEL_CHOICES.includes(params.kernels as KernelChoice)) return params.kernels as KernelChoice;
  showBanner(`?kernels=${params.kernels} is not allowed: one of ${KERNEL_CHOICES.join(', ')}.`, 'The page runs the default kernels (auto).');
  return 'auto';
}

function showBanner(title: string, body: string, kind: 'warning' | 'error' = 'warning'): void {
  const banner = $('banner');
  banner.className = `banner ${kind === 'error' ? 'error' : ''}`;
  banner.replaceChildren(h('strong', {}, title), h('span', {}, body));
  banner.hidden = false;
}

async function start(): Promise<void> {
  const adapter = $('adapter');
  try {
    gpu = await Gpu.create({ kernels: pageKernels() });
  } catch (error) {
    adapter.textContent = 'No WebGPU';
    adapter.className = 'chip err';
    showBanner('This page needs WebGPU, and this browser does not offer it.',
      `${(error as Error).message}. WebGPU is in current Chrome and Edge (113 or later) on desktops, Safari 26, and Firefox 141+ on Windows; ` +
      'the page must come from https:// or localhost. The data view below still works.', 'error');
    await loadData();
    return;
  }
  const facts = gpu.adapter;
  adapter.textContent = [facts.description, facts.vendor, facts.architecture].filter(Boolean).join(' · ') || 'WebGPU adapter (unnamed)';
  adapter.title = `timestamp-query: ${gpu.hasTimestamps ? 'yes' : 'no'}; kernels ${gpu.target.choice} (${gpu.target.shape === 'cpu' ? 'CPU-adapter' : 'GPU'} shapes)`;
  adapter.dataset.kernels = gpu.target.choice;
  adapter.className = 'chip ok';
  adapter.dataset.adapter = JSON.stringify(facts);
  void gpu.lost.then((reason) => {
    showBanner('The GPU device was lost.', `${reason}. Everything on the page so far is kept; reload to train again.`, 'error');
    for (const panel of panels) panel.loseDevice(reason);
    updateTrainBoth();
  });
  if (!(await loadData())) return;
  dataRef = uploadMnist(gpu, mnist!);
  kernelView.attach(gpu, dataRef);
  let engine;
  try {
    engine = await loadEngine();
  } catch (error) {
    showBanner('The training engine did not load.', (error as Error).message, 'error');
    return;
  }
  for (const panel of panels) panel.attach({ gpu, mnist: mnist!, data: dataRef, engine });
  updateTrainBoth();
  document.body.dataset.ready = 'true';
  if (params.autorun) void runBoth();
}

async function loadData(): Promise<boolean> {
  try {
    mnist = await loadMnist(fetchFromServer('mnist/'));
  } catch (error) {
    showBanner('MNIST could not be loaded.', (error as Error).message, 'error');
    return false;
  }
  dataPanel.setMnist(mnist);
  panels.forEach((p) => p.revalidate());
  return true;
}

/** For tests and the curious: the page's GPU and panels. */
declare global {
  interface Window {
    wgslnnDemo?: { gpu: () => Gpu | null; panels: NetworkPanel[] };
  }
}
window.wgslnnDemo = { gpu: () => gpu, panels };

void start();

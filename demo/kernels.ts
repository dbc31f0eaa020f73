/**
 * The kernel view: one training step of a trained network, kernel by kernel, as a ladder to climb. Each
 * row names the rung of its op's ladder that ran (src/layers/ladders.ts; rung 0 is the textbook kernel,
 * each later rung adds one trick), opens the WGSL that was compiled for it (after #include, #if and the
 * defines, array lengths filled in), and gives its GPU time (timestamp queries, src/gpu/timer.ts) and its
 * GFLOP/s against this adapter's fma() throughput. A control profiles the step again under another rung
 * ceiling or kernel choice, and the step's ms stand side by side with the profile before.
 *
 * A profile builds the step afresh under its kernel target (gpu.withTarget) on a copy of the trained
 * weights, with scratch step buffers, so profiling never changes the trained model.
 */
import { fmaRoof, type FmaRoof } from '../bench/roof.ts';
import type { Gpu } from '../src/gpu/gpu.ts';
import type { Dispatch } from '../src/gpu/kernel.ts';
import { shaderNames, shaderSource, specialise, type Defines } from '../src/gpu/shaders.ts';
import { KERNEL_CHOICE_HELP, KERNEL_CHOICES, OP_FAMILIES, type KernelChoice, type OpFamily, type Rung, type Target } from '../src/gpu/target.ts';
import { GpuTimer } from '../src/gpu/timer.ts';
import { buildLayers } from '../src/layers/build.ts';
import { Sequential } from '../src/graph/sequential.ts';
import { LADDERS } from '../src/layers/ladders.ts';
import { optimizerSpec, type TrainConfig } from '../src/train/config.ts';
import type { DeviceData } from '../src/engine/device-data.ts';
import { createTrainStepBuffers, trainStepDispatches } from '../src/engine/train-step.ts';
import { h } from './dom.ts';

/** What a profile asks for: a kernel choice, and the highest rung each op family may take (absent: its best). */
export interface KernelSetting {
  kernels: KernelChoice;
  ceiling: Partial<Record<OpFamily, number>>;
}

/** One WGSL text a kernel row compiled: the shader file, entry point and defines, and how many of the row's dispatches use it. */
export interface CompiledSource {
  shader: string;
  entry: string;
  defines: Defines;
  dispatches: number;
}

export interface KernelRow {
  /** `shader.entry` as the timers show it. */
  label: string;
  /** The rung of its op's ladder, null for kernels without a ladder. */
  rung: Rung | null;
  perStep: number;
  /** GPU milliseconds per step, null without timestamp queries. */
  msPerStep: number | null;
  /** Useful floating-point operations per step (a multiply-add counts 2; 0 for kernels that only move data). */
  flops: number;
  sources: CompiledSource[];
}

export interface KernelProfile {
  network: string;
  rows: number;
  setting: KernelSetting;
  /** The target the step was built for: the setting resolved on this adapter. */
  target: Target;
  kernels: KernelRow[];
  timed: boolean;
  /** Wall-clock milliseconds of one whole step (submit to done, averaged). */
  wallMsPerStep: number;
  note: string;
}

/** A trained network the view can profile again. */
interface Trained {
  model: Sequential;
  config: TrainConfig;
  trainCount: number;
}

const REPEATS = 3;

/** The step of `trained` under `setting`: every kernel's rung, compiled WGSL, dispatch count, GPU time and FLOPs. */
export async function profileStep(gpu: Gpu, trained: Trained, data: DeviceData, network: string, setting: KernelSetting): Promise<KernelProfile> {
  const view = gpu.withTarget(setting.kernels, setting.ceiling);
  const rows = Math.max(1, Math.min(trained.config.batchSize, trained.trainCount));
  // Recording stops before the first await: buffers others make meanwhile (the drawing pad's) are not this profile's.
  const stopRecording = gpu.buffers.record();
  let step: ReturnType<typeof buildStep>;
  try {
    step = buildStep(view, trained, data, rows);
  } catch (error) {
    for (const buffer of stopRecording()) gpu.buffers.release(buffer);
    throw error;
  }
  const made = stopRecording();
  const { dispatches } = step;
  let timer: GpuTimer | null = null;
  try {
    // One row per kernel and rung: the same label can run two rungs in one step (a layer whose shapes a trick does not fit).
    const keyed = dispatches.map((d) => ({ ...d, label: rowKey(d) }));
    const rowsByKey = new Map<string, KernelRow>();
    for (const [i, d] of dispatches.entries()) {
      const row = rowsByKey.get(keyed[i]!.label) ?? { label: d.label, rung: d.rung, perStep: 0, msPerStep: null, flops: 0, sources: [] };
      row.perStep += 1;
      row.flops += d.flops;
      const same = row.sources.find((s) => s.shader === d.shader && s.entry === d.entry && sameDefines(s.defines, d.defines));
      if (same) same.dispatches += 1;
      else row.sources.push({ shader: d.shader, entry: d.entry, defines: d.defines, dispatches: 1 });
      rowsByKey.set(keyed[i]!.label, row);
    }
    const wallMsPerStep = (await GpuTimer.wallClock(gpu, dispatches, REPEATS)).totalMs / REPEATS;
    let times: Record<string, { totalMs: number }> = {};
    // A query set holds at most 4,096 timestamps (two per kernel at most): time only what fits.
    if (gpu.hasTimestamps && dispatches.length * REPEATS * 2 <= 4096) {
      timer = new GpuTimer(gpu, dispatches.length * REPEATS);
      const encoder = gpu.device.createCommandEncoder({ label: 'kernel-view.timed' });
      for (let r = 0; r < REPEATS; r++) timer.encodeTimed(encoder, keyed);
      gpu.device.queue.submit([encoder.finish()]);
      times = await timer.read();
    }
    const timed = Object.keys(times).length > 0;
    if (timed) for (const [key, row] of rowsByKey) row.msPerStep = (times[key]?.totalMs ?? 0) / REPEATS;
    return {
      network,
      rows,
      setting,
      target: view.target,
      timed,
      wallMsPerStep,
      note: timed
        ? `GPU time per step from timestamp queries (${timer!.inPasses ? 'between the dispatches of one pass' : "a pass per kernel, which adds each pass's own cost"}), mean of ${REPEATS} steps of ${rows} images.`
        : 'Per-kernel timings are unavailable: this adapter does not offer timestamp-query. Whole-step wall-clock time is shown instead.',
      kernels: [...rowsByKey.values()],
    };
  } finally {
    timer?.destroy();
    for (const buffer of made) gpu.buffers.release(buffer);
  }
}

/**
 * The trainer's step rebuilt for `view`'s target: the model made again from its config and seed (so the
 * same arena layout) with the trained weights and statistics copied in, and scratch step buffers.
 */
function buildStep(view: Gpu, trained: Trained, data: DeviceData, rows: number) {
  const { config } = trained;
  const model = new Sequential(view, config.inputShape, buildLayers(config.layers), rows, config.seed, { inputFormat: 'u8x4' });
  const copy = view.device.createCommandEncoder({ label: 'kernel-view.weights' });
  copy.copyBufferToBuffer(trained.model.params, 0, model.params, 0, model.params.size);
  copy.copyBufferToBuffer(trained.model.state, 0, model.state, 0, model.state.size);
  view.device.queue.submit([copy.finish()]);
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const optimizer = optimizerSpec(config);
  const buffers = createTrainStepBuffers(view, { model, optimizer, order: view.buffers.create('kernel-view.order', rows * 4, storage), label: 'kernel-view' });
  const dispatches = trainStepDispatches(view, { model, rows, set: data.train, pixels: data.pixels, buffers, optimizer });
  // Batch 0, optimizer step 1, dropout seed 1, lr 0.
  view.device.queue.writeBuffer(buffers.step, 0, new Uint32Array([0, 1, 1, 0]));
  return { dispatches };
}

function rowKey(d: Dispatch): string {
  return d.rung ? `${d.label} @${d.rung.op}.${d.rung.index}` : d.label;
}

function sameDefines(a: Defines, b: Defines): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** `kernels auto · dense ≤ rung 0`: a setting in a few words. */
export function settingText(s: KernelSetting): string {
  const ceilings = s.kernels === 'plain' ? [] : OP_FAMILIES.filter((op) => s.ceiling[op] !== undefined).map((op) => `${op} ≤ rung ${s.ceiling[op]}`);
  return [`kernels ${s.kernels}`, ...ceilings].join(' · ');
}

/**
 * The kernel section of the page: the roof, the rerun control, each profiled network's step (the latest
 * beside the one before), and the ladders of every op family with their rungs to read.
 */
export class KernelView {
  readonly element: HTMLElement;
  private gpu: Gpu | null = null;
  private data: DeviceData | null = null;
  private roof: Promise<FmaRoof | null> | null = null;
  private readonly trained = new Map<string, Trained>();
  /** Each network's profiles, oldest first; the last two are shown. */
  private readonly history = new Map<string, KernelProfile[]>();
  private running = false;
  private trainingElsewhere = false;
  /** Each rung's "profile at this rung" button, and its "ran in …" tag by `op.index`. */
  private readonly rungButtons: HTMLButtonElement[] = [];
  private readonly ranTags = new Map<string, HTMLElement>();

  private readonly roofLine = h('p', { class: 'faint', dataset: { role: 'roof-line' } }, 'Roof: measured with the first profile.');
  private readonly profiles = h('div', { dataset: { role: 'kernel-profiles' } }, h('p', { class: 'muted' }, 'Train a network to see what one of its training steps dispatches.'));
  private readonly ladders = h('div', { class: 'ladders', dataset: { role: 'ladders' } });
  private readonly control = {
    network: h('select', { dataset: { control: 'network' } }),
    kernels: h('select', { dataset: { control: 'kernels' } }, ...KERNEL_CHOICES.map((c) => h('option', { value: c, title: KERNEL_CHOICE_HELP[c] }, c))),
    ceilings: Object.fromEntries(OP_FAMILIES.map((op) => [op, h('select', { dataset: { control: `ceiling-${op}` } },
      h('option', { value: '' }, 'best'),
      ...LADDERS[op].map((r) => h('option', { value: String(r.index) }, `${r.index} · ${r.name}`)))])) as Record<OpFamily, HTMLSelectElement>,
    run: h('button', { class: 'primary', disabled: true, dataset: { control: 'profile' } }, 'Profile the step'),
    status: h('span', { class: 'faint', dataset: { role: 'profile-status' } }),
  };

  constructor() {
    const c = this.control;
    c.run.addEventListener('click', () => void this.rerun(c.network.value, this.chosenSetting()));
    c.kernels.addEventListener('change', () => this.updateControl());
    this.element = h('div', {},
      h('p', { class: 'muted', style: 'margin-top:-6px' },
        'Every kernel of one training step: the rung of its op\u2019s ladder that ran, the WGSL that was compiled for it, its GPU time and its arithmetic rate against this adapter\u2019s roof. ' +
        'Read each ladder below from rung 0, the textbook kernel, then each trick; profile the step at that rung to see what the trick buys on this GPU.'),
      this.roofLine,
      h('div', { class: 'rerun', dataset: { role: 'rerun' } },
        h('label', {}, 'Profile the ', c.network, ' step with kernels ', c.kernels),
        ...OP_FAMILIES.map((op) => h('label', {}, `${op} up to rung `, c.ceilings[op])),
        c.run, c.status),
      this.profiles,
      h('h3', { style: 'margin:22px 0 6px' }, 'The ladders'),
      h('p', { class: 'muted', style: 'margin-top:0' },
        'Each op family\u2019s kernels, rung 0 first. The policy takes the highest rung that fits the shapes, suits this kind of adapter and is within the ceiling; a rung ceiling of 0 (or kernels plain) runs the textbook kernels everywhere.'),
      this.ladders,
      h('h3', { style: 'margin:22px 0 6px' }, 'Every shader file'),
      shaderList());
    this.buildLadders();
  }

  /** The device and data the profiles run on, once the page has them. */
  attach(gpu: Gpu, data: DeviceData): void {
    this.gpu = gpu;
    this.data = data;
    this.control.kernels.value = gpu.target.choice;
    this.updateControl();
  }

  /** Another network is training: no profiling meanwhile (it would time both, and its model may be released). */
  setTraining(training: boolean): void {
    this.trainingElsewhere = training;
    this.updateControl();
  }

  /** A network finished training: profile its step with the page's own kernels. */
  async finished(network: string, model: Sequential, config: TrainConfig, trainCount: number): Promise<void> {
    this.trained.set(network, { model, config, trainCount });
    this.history.delete(network);
    if (![...this.control.network.options].some((o) => o.value === network)) this.control.network.append(h('option', { value: network }, network));
    this.control.network.value = network;
    await this.rerun(network, { kernels: this.gpu?.target.choice ?? 'auto', ceiling: {} });
  }

  /** A network's model was released (its panel trains again): nothing of it is left to profile. */
  forget(network: string): void {
    this.trained.delete(network);
  }

  private chosenSetting(): KernelSetting {
    const ceiling: Partial<Record<OpFamily, number>> = {};
    for (const op of OP_FAMILIES) {
      const value = this.control.ceilings[op].value;
      if (value !== '') ceiling[op] = Number(value);
    }
    return { kernels: this.control.kernels.value as KernelChoice, ceiling };
  }

  private async rerun(network: string, setting: KernelSetting): Promise<void> {
    const trained = this.trained.get(network);
    if (!this.gpu || !this.data || !trained || this.running) return;
    this.running = true;
    this.updateControl();
    this.control.status.textContent = `Profiling ${network} with ${settingText(setting)}…`;
    try {
      this.roof ??= this.measureRoof(this.gpu);
      await this.roof;
      // Its panel may have started another run meanwhile, releasing this model.
      if (this.trained.get(network) !== trained) {
        this.control.status.textContent = `Not profiled: ${network} is training again.`;
        return;
      }
      const profile = await profileStep(this.gpu, trained, this.data, network, setting);
      const list = this.history.get(network) ?? [];
      list.push(profile);
      this.history.set(network, list.slice(-2));
      this.control.status.textContent = '';
    } catch (error) {
      this.control.status.textContent = `Could not profile: ${(error as Error).message}`;
      console.warn(`kernel view: ${(error as Error).message}`);
    } finally {
      this.running = false;
      this.updateControl();
    }
    await this.render();
  }

  private async measureRoof(gpu: Gpu): Promise<FmaRoof | null> {
    const timer = new GpuTimer(gpu, 16);
    try {
      const roof = await fmaRoof(gpu, timer);
      this.roofLine.replaceChildren(
        h('strong', {}, `Roof: ${roof.gflops.toFixed(2)} GFLOP/s`),
        ` \u2014 the fma() throughput of this adapter, measured once on this page by bench/roof.wgsl\u2019s fma_loop (independent vec4 multiply-adds, best of 5, by ${roof.by}). ` +
          'A kernel\u2019s \u201croof\u201d is its useful GFLOP/s against it: the share of the adapter\u2019s multiply-add rate the kernel turns into useful work.');
      this.roofLine.dataset.gflops = String(roof.gflops);
      return roof;
    } catch (error) {
      this.roofLine.textContent = `Roof: not measured (${(error as Error).message}).`;
      return null;
    } finally {
      timer.destroy();
    }
  }

  private updateControl(): void {
    const c = this.control;
    c.run.disabled = this.running || this.trainingElsewhere || !this.gpu || c.network.options.length === 0;
    c.run.title = this.trainingElsewhere ? 'A network is training: profile once it is done' : '';
    for (const op of OP_FAMILIES) c.ceilings[op].disabled = c.kernels.value === 'plain';
    for (const button of this.rungButtons) button.disabled = c.run.disabled;
  }

  private async render(): Promise<void> {
    const roof = (await this.roof) ?? null;
    const networks = [...this.history.keys()].sort();
    this.profiles.replaceChildren(...networks.map((network) => {
      const [previous, current] = this.history.get(network)!.length > 1 ? this.history.get(network)! : [null, this.history.get(network)![0]!];
      return h('div', { class: 'profile-pair', dataset: { network } },
        previous ? comparison(previous, current!) : null,
        h('div', { class: 'kernel-grid' }, previous ? kernelTable(previous, roof, 'previous') : null, kernelTable(current!, roof, 'current')));
    }));
    this.markRan();
  }

  /** Every ladder, rung 0 first, built once (so a rung file a reader opened stays open): each rung's trick from its file's header. */
  private buildLadders(): void {
    this.ladders.replaceChildren(...OP_FAMILIES.map((op) =>
      h('section', { class: 'ladder', dataset: { ladder: op } },
        h('h4', {}, op),
        h('ol', { class: 'rungs', start: 0 }, ...LADDERS[op].map((rung) => {
          const file = shaderFile(rung);
          const source = shaderNames().includes(file) ? shaderSource(file) : null;
          const pre = h('pre', {});
          const read = source === null
            ? h('p', { class: 'faint' }, `shaders/${file}.wgsl is not in this build.`)
            : h('details', { class: 'wgsl' }, h('summary', {}, `Read shaders/${file}.wgsl (${source.split('\n').length} lines)`), pre);
          read.addEventListener('toggle', () => {
            if ((read as HTMLDetailsElement).open && !pre.innerHTML) pre.innerHTML = highlight(source!);
          });
          const button = h('button', { class: 'small', disabled: true, onclick: () => this.profileAtRung(op, rung.index) }, `Profile at rung ${rung.index}`);
          this.rungButtons.push(button);
          const ranTag = h('span', { class: 'ran-tag', hidden: true, dataset: { role: 'ran' } });
          this.ranTags.set(`${op}.${rung.index}`, ranTag);
          return h('li', { class: 'rung-item', dataset: { rung: String(rung.index) } },
            h('div', { class: 'rung-head' },
              h('span', { class: 'rung-index' }, String(rung.index)),
              h('strong', {}, rung.name),
              h('span', { class: 'suits' }, rung.suits === 'any' ? 'any adapter' : rung.suits === 'gpu' ? 'for GPUs' : 'for CPU adapters'),
              ranTag,
              button),
            h('p', { class: 'rung-why' }, source === null ? '' : headerComment(source)),
            read);
        })))));
  }

  /** Tags each rung with the networks whose latest profile ran it. */
  private markRan(): void {
    const latest = [...this.history.values()].map((list) => list.at(-1)!);
    for (const [key, tag] of this.ranTags) {
      const ranIn = latest.filter((p) => p.kernels.some((k) => k.rung && `${k.rung.op}.${k.rung.index}` === key)).map((p) => p.network);
      tag.hidden = ranIn.length === 0;
      tag.textContent = `ran in ${ranIn.join(', ')}`;
      tag.closest('li')!.classList.toggle('ran', ranIn.length > 0);
    }
  }

  /**
   * Profiles a network that has `op` (the chosen one where it does) with `op` capped at `index`, leaving
   * plain, which would ignore the ceiling.
   */
  private profileAtRung(op: OpFamily, index: number): void {
    const c = this.control;
    const hasOp = (network: string) => this.trained.get(network)?.config.layers.some((layer) => layer.type === op) ?? false;
    const network = hasOp(c.network.value) ? c.network.value : [...this.trained.keys()].find(hasOp);
    if (!network) {
      c.status.textContent = `No trained network has a ${op} layer yet.`;
      return;
    }
    c.network.value = network;
    if (c.kernels.value === 'plain') c.kernels.value = 'auto';
    c.ceilings[op].value = String(index);
    this.updateControl();
    void this.rerun(network, this.chosenSetting());
  }
}

/** `shaders/<file>.wgsl` of a rung, as a name shaderSource knows. */
function shaderFile(rung: Rung): string {
  return rung.file.replace(/^.*\//, '').replace(/\.wgsl$/, '');
}

/**
 * The comment lines a shader file starts with (its header: what the kernel or trick is, why it pays, where),
 * lines of a paragraph joined and paragraphs and indented lines (buffer shapes) kept.
 */
function headerComment(source: string): string {
  const lines: string[] = [];
  for (const line of source.split('\n')) {
    const match = /^\s*\/\/ ?(.*)$/.exec(line);
    if (!match) break;
    lines.push(match[1]!.trimEnd());
  }
  return lines
    .map((line, i) => (i > 0 && line !== '' && !/^\s/.test(line) && lines[i - 1] !== '' && !/^\s/.test(lines[i - 1]!) ? ` ${line}` : `\n${line}`))
    .join('')
    .trim();
}

/** The two profiles' step times side by side. */
function comparison(previous: KernelProfile, current: KernelProfile): HTMLElement {
  const ratio = current.wallMsPerStep / previous.wallMsPerStep;
  const side = (p: KernelProfile, role: string) =>
    h('span', { class: 'compare-side', dataset: { role, ms: p.wallMsPerStep.toFixed(3) } },
      h('span', { class: 'faint' }, role === 'previous' ? 'before: ' : 'now: '), settingText(p.setting), ' \u2014 ',
      h('strong', {}, `${p.wallMsPerStep.toFixed(2)} ms`), kernelMs(p) === null ? '' : ` (${kernelMs(p)!.toFixed(2)} ms of kernels)`);
  return h('div', { class: 'compare', dataset: { role: 'compare' } },
    h('span', {}, `${current.network} step: `), side(previous, 'previous'), h('span', { class: 'arrow' }, '\u2192'), side(current, 'current'),
    h('span', { class: ratio <= 1 ? 'good' : 'bad' }, ` \u00d7${ratio.toFixed(2)} the time`));
}

function kernelMs(p: KernelProfile): number | null {
  return p.timed ? p.kernels.reduce((s, k) => s + (k.msPerStep ?? 0), 0) : null;
}

/** The table of kernels of one network's step, slowest first when timed; a row opens the WGSL it compiled. */
export function kernelTable(profile: KernelProfile, roof: FmaRoof | null, role: 'current' | 'previous'): HTMLElement {
  const rows = [...profile.kernels];
  if (profile.timed) rows.sort((a, b) => (b.msPerStep ?? 0) - (a.msPerStep ?? 0));
  const total = kernelMs(profile) ?? 0;
  const body = rows.flatMap((r) => {
    const gflops = r.msPerStep && r.flops > 0 ? r.flops / (r.msPerStep * 1e6) : null;
    const source = h('tr', { class: 'wgsl-row', hidden: true }, h('td', { colSpan: 7 }));
    const toggle = () => {
      source.hidden = !source.hidden;
      if (!source.hidden && !source.firstElementChild!.hasChildNodes()) source.firstElementChild!.append(...compiledSources(r));
    };
    const row = h('tr', { dataset: { kernel: r.label, rung: r.rung ? String(r.rung.index) : '' } },
      h('td', {}, h('a', { href: '#', title: 'Show the WGSL it compiled', onclick: (e: Event) => {
        e.preventDefault();
        toggle();
      } }, r.label)),
      h('td', { class: 'rung-cell', dataset: { role: 'rung' } }, r.rung ? h('span', { class: 'rung', title: `${r.rung.op} rung ${r.rung.index}: ${r.rung.name}` }, `${r.rung.index} \u00b7 ${r.rung.name}`) : h('span', { class: 'faint', title: 'one kernel, no ladder' }, '\u2014')),
      h('td', {}, String(r.perStep)),
      h('td', { dataset: { role: 'ms' } }, r.msPerStep === null ? '\u2013' : r.msPerStep.toFixed(3)),
      h('td', { dataset: { role: 'gflops' } }, gflops === null ? '' : gflops.toFixed(2)),
      h('td', { dataset: { role: 'roof' } }, gflops !== null && roof ? `${((gflops / roof.gflops) * 100).toFixed(0)}%` : ''),
      h('td', { class: 'share-cell' }, r.msPerStep !== null && total > 0 ? h('span', { class: 'share', style: `width:${Math.max(1, Math.round((r.msPerStep / total) * 80))}px` }) : ''));
    return [row, source];
  });
  const t = profile.target;
  const resolved = `${t.shape === 'cpu' ? 'CPU-adapter' : 'GPU'} shapes, subgroups ${t.subgroups ? 'on' : 'off'}`;
  const dataset: Record<string, string> = role === 'current' ? { kernels: profile.network } : { kernelsPrevious: profile.network };
  return h('div', { class: `card profile-card ${role}`, dataset: { ...dataset, setting: settingText(profile.setting) } },
    h('div', { class: 'card-head' },
      h('h4', {}, `${profile.network}: ${settingText(profile.setting)}`),
      h('span', { class: 'faint', dataset: { role: 'step-ms' } }, `${profile.wallMsPerStep.toFixed(2)} ms per step (wall clock)`)),
    h('p', { class: 'faint', style: 'margin:-6px 0 8px' }, `${resolved}; ${role === 'previous' ? 'the profile before' : 'the latest profile'}. Click a kernel for its compiled WGSL.`),
    h('table', { class: 'kernels' },
      h('thead', {}, h('tr', {},
        h('th', {}, 'kernel'), h('th', { class: 'rung-cell' }, 'rung'), h('th', { title: 'dispatches per step' }, 'n'), h('th', {}, 'ms / step'),
        h('th', { title: 'useful GFLOP per second: a multiply-add counts 2' }, 'GFLOP/s'),
        h('th', { title: 'GFLOP/s against the fma() roof above' }, 'roof'), h('th', { class: 'share-cell' }, 'share'))),
      h('tbody', {}, ...body)),
    h('p', { class: 'faint' }, `${profile.kernels.reduce((n, k) => n + k.perStep, 0)} dispatches per step. ${profile.note}`));
}

/** The WGSL a row compiled, one block per distinct text (dispatches of one kernel differ in their array lengths). */
function compiledSources(row: KernelRow): HTMLElement[] {
  return row.sources.map((s, i) => {
    const defines = Object.entries(s.defines).map(([k, v]) => `${k}=${v}`).join(', ');
    const pre = h('pre', { dataset: { role: 'compiled-wgsl' } });
    pre.innerHTML = highlight(specialise(s.shader, s.defines));
    return h('details', { class: 'wgsl', open: i === 0, dataset: { shader: s.shader, entry: s.entry } },
      h('summary', {}, `shaders/${s.shader}.wgsl as compiled \u2192 entry ${s.entry}, ${s.dispatches} dispatch${s.dispatches > 1 ? 'es' : ''}`,
        h('span', { class: 'defines' }, defines ? ` \u00b7 ${defines}` : '')),
      pre);
  });
}

/** Every shader file, collapsed, with light highlighting for reading. */
export function shaderList(): HTMLElement {
  return h('div', {}, ...shaderNames().sort().map((name) => {
    const pre = h('pre', {});
    const details = h('details', { class: 'wgsl', id: `shader-${name}`, dataset: { shader: name } }, h('summary', {}, `shaders/${name}.wgsl`), pre);
    details.addEventListener('toggle', () => {
      if (details.open && !pre.innerHTML) pre.innerHTML = highlight(shaderSource(name));
    });
    return details;
  }));
}

function highlight(source: string): string {
  const escaped = source.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(
    /(\/\/[^\n]*)|(@\w+)|\b(fn|let|var|const|struct|return|if|else|for|loop|break|continue|while|override|switch|case|default)\b|\b(u32|i32|f32|f16|bool|vec[234](?:&lt;\w+&gt;)?|vec[234][fiu]|mat\dx\d\w*|array|atomic|ptr|storage|uniform|workgroup|read_write|read)\b/g,
    (match, comment, attribute, keyword, type) =>
      comment ? `<span class="cm">${match}</span>` : attribute ? `<span class="at">${match}</span>` : keyword ? `<span class="kw">${match}</span>` : type ? `<span class="ty">${match}</span>` : match,
  );
}

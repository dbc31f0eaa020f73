/**
 * The kernel view: what one training step of the last run dispatches, kernel by kernel (the
 * `shader.entry` labels), how many times per step and, where the adapter has `timestamp-query`, how
 * long each takes (src/gpu/timer.ts), with the WGSL source of every shader to read alongside.
 *
 * The step is the trainer's own (trainStepDispatches) on the trained model. Its step buffers are
 * scratch and the optimizer writes a scratch parameter arena, so profiling never changes the
 * trained weights.
 */
import type { Gpu } from '../src/gpu/gpu.ts';
import { encode, type Dispatch } from '../src/gpu/kernel.ts';
import { shaderNames, shaderSource } from '../src/gpu/shaders.ts';
import { GpuTimer } from '../src/gpu/timer.ts';
import type { Sequential } from '../src/graph/sequential.ts';
import type { TrainConfig } from '../src/train/config.ts';
import type { DeviceData } from '../src/train/device-data.ts';
import { createTrainStepBuffers, optimizerSpec, trainStepDispatches } from '../src/train/train-step.ts';
import { h } from './dom.ts';

export interface KernelRow {
  label: string;
  perStep: number;
  /** GPU milliseconds per step, null without timestamp queries. */
  msPerStep: number | null;
  /** Useful floating-point operations per step (a multiply-add counts 2; 0 for kernels that only move data). */
  flops: number;
}

export interface KernelProfile {
  network: string;
  rows: number;
  kernels: KernelRow[];
  timed: boolean;
  /** Wall-clock milliseconds of one whole step (submit to done, averaged). */
  wallMsPerStep: number;
  note: string;
}

const REPEATS = 3;

export async function profileStep(gpu: Gpu, model: Sequential, data: DeviceData, config: TrainConfig, trainCount: number, network: string): Promise<KernelProfile> {
  const rows = Math.max(1, Math.min(config.batchSize, trainCount));
  const stopRecording = gpu.buffers.record();
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const optimizer = optimizerSpec(config);
  const buffers = createTrainStepBuffers(gpu, { model, optimizer, order: gpu.buffers.create('kernel-view.order', rows * 4, storage), label: 'kernel-view' });
  const params = gpu.buffers.create('kernel-view.params', model.paramFloats * 4, storage);
  // Recording the plan too: its layers' uniforms belong to this profile and go with it.
  const dispatches = trainStepDispatches(gpu, { model, rows, set: data.train, pixels: data.pixels, buffers, optimizer, params });
  const made = stopRecording();
  // Batch 0, optimizer step 1, dropout seed 1, lr 0.
  gpu.device.queue.writeBuffer(buffers.step, 0, new Uint32Array([0, 1, 1, 0]));
  let timer: GpuTimer | null = null;
  try {
    const counts = new Map<string, { perStep: number; flops: number }>();
    for (const d of dispatches) {
      const seen = counts.get(d.label) ?? { perStep: 0, flops: 0 };
      counts.set(d.label, { perStep: seen.perStep + 1, flops: seen.flops + d.flops });
    }
    const wallMsPerStep = await wallClock(gpu, dispatches);
    let times: Record<string, { totalMs: number }> = {};
    // A query set holds at most 4,096 timestamps (two per kernel at most): time only what fits.
    if (gpu.hasTimestamps && dispatches.length * REPEATS * 2 <= 4096) {
      timer = new GpuTimer(gpu, dispatches.length * REPEATS);
      const encoder = gpu.device.createCommandEncoder({ label: 'kernel-view.timed' });
      for (let r = 0; r < REPEATS; r++) timer.encodeTimed(encoder, dispatches);
      gpu.device.queue.submit([encoder.finish()]);
      times = await timer.read();
    }
    const timed = Object.keys(times).length > 0;
    return {
      network,
      rows,
      timed,
      wallMsPerStep,
      note: timed
        ? `GPU time per step from timestamp queries (${timer!.inPasses ? 'between the dispatches of one pass' : 'a pass per kernel, which adds each pass\'s own cost'}), mean of ${REPEATS} steps of ${rows} images.`
        : 'Per-kernel timings are unavailable: this adapter does not offer timestamp-query. Whole-step wall-clock time is shown instead.',
      kernels: [...counts].map(([label, { perStep, flops }]) => ({ label, perStep, flops, msPerStep: timed ? (times[label]?.totalMs ?? 0) / REPEATS : null })),
    };
  } finally {
    timer?.destroy();
    for (const buffer of made) gpu.buffers.release(buffer);
  }
}

/** Milliseconds per step of `REPEATS` whole steps in one pass, after one warm-up step. */
async function wallClock(gpu: Gpu, dispatches: Dispatch[]): Promise<number> {
  const submit = (steps: number) => {
    const encoder = gpu.device.createCommandEncoder({ label: 'kernel-view.wall' });
    const pass = encoder.beginComputePass();
    for (let s = 0; s < steps; s++) encode(pass, dispatches);
    pass.end();
    gpu.device.queue.submit([encoder.finish()]);
    return gpu.device.queue.onSubmittedWorkDone();
  };
  await submit(1);
  const started = performance.now();
  await submit(REPEATS);
  return (performance.now() - started) / REPEATS;
}

/** The table of kernels of one network's step, slowest first when timed. */
export function kernelTable(profile: KernelProfile): HTMLElement {
  const rows = [...profile.kernels];
  if (profile.timed) rows.sort((a, b) => (b.msPerStep ?? 0) - (a.msPerStep ?? 0));
  const total = rows.reduce((s, r) => s + (r.msPerStep ?? 0), 0);
  const body = rows.map((r) =>
    h('tr', { dataset: { kernel: r.label } },
      h('td', {}, h('a', { href: `#shader-${r.label.split('.')[0]}`, title: 'Show its WGSL', onclick: (e: Event) => openShader(e, r.label.split('.')[0]!) }, r.label)),
      h('td', {}, String(r.perStep)),
      h('td', {}, r.msPerStep === null ? '–' : r.msPerStep.toFixed(3)),
      h('td', { dataset: { role: 'gflops' } }, r.msPerStep && r.flops > 0 ? (r.flops / (r.msPerStep * 1e6)).toFixed(2) : ''),
      h('td', { class: 'share-cell' }, r.msPerStep !== null && total > 0 ? h('span', { class: 'share', style: `width:${Math.max(1, Math.round((r.msPerStep / total) * 80))}px` }) : '')));
  return h('div', { class: 'card', dataset: { kernels: profile.network } },
    h('div', { class: 'card-head' }, h('h4', {}, `${profile.network}: one training step`), h('span', { class: 'faint' }, `${profile.wallMsPerStep.toFixed(2)} ms per step (wall clock)`)),
    h('table', { class: 'kernels' },
      h('thead', {}, h('tr', {}, h('th', {}, 'kernel'), h('th', {}, 'dispatches / step'), h('th', {}, 'ms / step'), h('th', { title: 'useful GFLOP per second: a multiply-add counts 2' }, 'GFLOP/s'), h('th', { class: 'share-cell' }, 'share'))),
      h('tbody', {}, ...body)),
    h('p', { class: 'faint' }, `${profile.kernels.reduce((n, k) => n + k.perStep, 0)} dispatches per step. ${profile.note}`));
}

/** Every shader file, collapsed, with light highlighting for reading. */
export function shaderList(): HTMLElement {
  return h('div', {}, ...shaderNames().sort().map((name) => {
    const pre = h('pre', {});
    const details = h('details', { class: 'wgsl', id: `shader-${name}`, dataset: { shader: name } }, h('summary', {}, `shaders/${name}.wgsl`), pre);
    details.addEventListener('toggle', () => {
      if (details.open && !pre.innerHTML) pre.innerHTML = highlight(shaderSource(name));
    }, { once: false });
    return details;
  }));
}

function openShader(event: Event, name: string): void {
  const details = document.getElementById(`shader-${name}`) as HTMLDetailsElement | null;
  if (!details) return;
  event.preventDefault();
  details.open = true;
  details.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

function highlight(source: string): string {
  const escaped = source.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return escaped.replace(
    /(\/\/[^\n]*)|(@\w+)|\b(fn|let|var|const|struct|return|if|else|for|loop|break|continue|while|override|switch|case|default)\b|\b(u32|i32|f32|f16|bool|vec[234](?:&lt;\w+&gt;)?|vec[234][fiu]|mat\dx\d\w*|array|atomic|ptr|storage|uniform|workgroup|read_write|read)\b/g,
    (match, comment, attribute, keyword, type) =>
      comment ? `<span class="cm">${match}</span>` : attribute ? `<span class="at">${match}</span>` : keyword ? `<span class="kw">${match}</span>` : type ? `<span class="ty">${match}</span>` : match,
  );
}

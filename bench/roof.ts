/**
 * The adapter's roof as WGSL kernels see it: the throughput of a loop of fma() calls (GFLOP/s), copy
 * bandwidth (GB/s), and the cost of one dispatch (µs). On SwiftShader these are what its JIT makes of
 * such kernels on the CPU's cores, which can be far below the CPU's own SIMD peak: a bound for our
 * kernels on this adapter, not for the machine. Kernels are in bench/roof.wgsl, independent of the engine's
 * shaders. Each kernel is timed by timestamp queries (GpuTimer) when the adapter has them and by
 * wall clock, best of several tries each; the roof takes the faster.
 */
import { Gpu } from '../src/gpu/gpu.ts';
import { grid1d, packFields, type Dispatch } from '../src/gpu/kernel.ts';
import { GpuTimer } from '../src/gpu/timer.ts';
import roofSource from './roof.wgsl?raw';
import type { RoofResult } from './workloads.ts';

// 16,384 invocations give every SwiftShader thread many workgroups; a GPU needs far more to fill its
// cores (an H100/H200 holds 270,336 resident invocations), so a hardware adapter gets 64× that.
const FMA_WORKGROUPS_CPU = 256;
const FMA_WORKGROUPS_GPU = 256 * 64;
const FMA_ITERATIONS = 1024;
const FLOPS_PER_ITERATION = 8 * 4 * 2; // 8 vec4 accumulators, multiply + add
const COPY_BYTES = 64 * 1024 * 1024;
const REPEATS = 5;

function dispatch(gpu: Gpu, module: GPUShaderModule, entry: string, bind: Record<number, GPUBuffer>, workgroups: readonly number[]): Dispatch {
  const pipeline = gpu.device.createComputePipeline({ label: `roof.${entry}`, layout: 'auto', compute: { module, entryPoint: entry } });
  const entries = Object.entries(bind).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } }));
  const bindGroup = gpu.device.createBindGroup({ label: `roof.${entry}`, layout: pipeline.getBindGroupLayout(0), entries });
  return { label: `roof.${entry}`, entry, shader: 'bench/roof.ts (inline WGSL)', defines: {}, rung: null, pipeline, bindGroup, workgroups: [workgroups[0]!, workgroups[1] ?? 1, workgroups[2] ?? 1], flops: 0 };
}

/**
 * Best ms of one dispatch over `REPEATS` tries, by timestamp queries (each try its own pass) and by
 * wall clock (each try its own submission). Best, not median: a roof is what the device does at
 * best, and other work on the machine only ever adds time.
 */
async function timeKernel(gpu: Gpu, timer: GpuTimer, d: Dispatch): Promise<{ gpuMs: number | null; wallMs: number }> {
  let wallMs = Infinity;
  for (let i = 0; i < REPEATS; i++) wallMs = Math.min(wallMs, (await GpuTimer.wallClock(gpu, d, 1)).totalMs);
  if (!timer.available) return { gpuMs: null, wallMs };
  const tries = Array.from({ length: REPEATS }, (_, i): Dispatch => ({ ...d, label: `${d.label} #${i}` }));
  const encoder = gpu.device.createCommandEncoder({ label: `roof ${d.label}` });
  timer.encodeTimed(encoder, tries);
  gpu.device.queue.submit([encoder.finish()]);
  const times = Object.values(await timer.read());
  return { gpuMs: Math.min(...times.map((t) => t.totalMs / t.count)), wallMs };
}

/**
 * The faster of the two timings. On SwiftShader either can come out slower on a busy machine (and
 * a wall clock can only over-count), so the roof is the best the device was seen to do. Timestamps
 * of 0 (Dawn on an H100 gave them for the 64 MiB copy) are no timing.
 */
function best(t: { gpuMs: number | null; wallMs: number }): [number, string] {
  return t.gpuMs !== null && t.gpuMs > 0 && t.gpuMs <= t.wallMs ? [t.gpuMs, 'timestamps'] : [t.wallMs, 'wall clock'];
}

/** The FMA roof alone: what `fma()` in a loop of independent vec4s does on this device at best, in GFLOP/s. */
export interface FmaRoof {
  gflops: number;
  /** What timed it: `timestamps` or `wall clock`. */
  by: string;
  /** The work and both timings, in words. */
  detail: string;
}

/**
 * Times bench/roof.wgsl's `fma_loop` on `gpu` (best of REPEATS by timestamps and by wall clock). The demo's
 * kernel view measures it once on its own device to put each kernel's GFLOP/s against.
 */
export async function fmaRoof(gpu: Gpu, timer: GpuTimer): Promise<FmaRoof> {
  const stop = gpu.buffers.record();
  try {
    const loop = fmaDispatch(gpu);
    const fma = await timeKernel(gpu, timer, loop);
    const [ms, by] = best(fma);
    return { gflops: loop.flops / (ms * 1e6), by, detail: `fma: ${(loop.flops / 1e9).toFixed(2)} GFLOP per dispatch (${loop.workgroups[0] * 64} invocations × ${FMA_ITERATIONS} × ${FLOPS_PER_ITERATION}); ${timings(fma)}` };
  } finally {
    for (const buffer of stop()) gpu.buffers.release(buffer);
  }
}

/** bench/roof.wgsl's `fma_loop` as one dispatch, its `flops` counted (also a case of bench/cpu-cases.ts). */
export function fmaDispatch(gpu: Gpu): Dispatch {
  const module = gpu.device.createShaderModule({ label: 'roof', code: roofSource });
  const fmaWorkgroups = gpu.adapter.fallback ? FMA_WORKGROUPS_CPU : FMA_WORKGROUPS_GPU;
  const invocations = fmaWorkgroups * 64;
  const params = gpu.buffers.create('roof.fma_params', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  gpu.device.queue.writeBuffer(params, 0, packFields([['u32', FMA_ITERATIONS], ['f32', 0.999], ['f32', 1e-3]]));
  const sink = gpu.buffers.create('roof.sink', invocations * 16, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  return { ...dispatch(gpu, module, 'fma_loop', { 0: params, 1: sink }, [fmaWorkgroups]), flops: invocations * FMA_ITERATIONS * FLOPS_PER_ITERATION };
}

const timings = (t: { gpuMs: number | null; wallMs: number }) =>
  `${t.gpuMs === null ? '' : `${t.gpuMs.toFixed(2)} ms by timestamps, `}${t.wallMs.toFixed(2)} ms by wall clock`;

export async function runRoof(): Promise<RoofResult> {
  const gpu = await Gpu.create();
  const timer = new GpuTimer(gpu, 16);
  try {
    const fma = await fmaRoof(gpu, timer);
    const module = gpu.device.createShaderModule({ label: 'roof', code: roofSource });
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const sink = gpu.buffers.create('roof.sink', 16, storage);
    const source = gpu.buffers.create('roof.source', COPY_BYTES, storage);
    const destination = gpu.buffers.create('roof.destination', COPY_BYTES, storage);

    const copy = await timeKernel(gpu, timer, dispatch(gpu, module, 'copy', { 2: source, 3: destination }, grid1d(COPY_BYTES / 16, 256)));
    const empty = await GpuTimer.wallClock(gpu, dispatch(gpu, module, 'nothing', { 1: sink }, [1]), 500);

    const [copyMs, copyBy] = best(copy);
    return {
      adapter: [gpu.adapter.vendor, gpu.adapter.architecture, gpu.adapter.description].filter(Boolean).join(' / '),
      timing: `fma by ${fma.by}, copy by ${copyBy}${timer.available ? '' : ' (no timestamp-query)'}`,
      fmaKernelGflops: fma.gflops,
      copyGBs: (2 * COPY_BYTES) / (copyMs * 1e6),
      dispatchUs: (empty.totalMs * 1000) / empty.count,
      details: [
        fma.detail,
        `copy: ${COPY_BYTES / 2 ** 20} MiB read + written per dispatch; ${timings(copy)}`,
        `dispatch: ${empty.count} one-invocation dispatches in one pass, ${empty.totalMs.toFixed(1)} ms by wall clock`,
      ],
    };
  } finally {
    timer.destroy();
    gpu.destroy();
  }
}

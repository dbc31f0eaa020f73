/** Browser-side helpers for kernel tests: one device per page, upload, run, read back, compare. */
import { Gpu } from '../../src/gpu/gpu.ts';
import { encode, type Dispatch } from '../../src/gpu/kernel.ts';
import { Rng } from '../../src/data/random.ts';
import { packSteps, STEP_BYTES, type StepParams } from '../../src/engine/step.ts';

let shared: Promise<Gpu> | null = null;

export function testGpu(): Promise<Gpu> {
  shared ??= Gpu.create({ timestampsInPasses: true });  // tests/timer.spec.ts times both ways
  return shared;
}

/** Uniform random values in [low, high) from a seeded stream. */
export function randomArray(n: number, seed: number, low = -1, high = 1): Float32Array<ArrayBuffer> {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(low, high);
  return out;
}

export function storage(gpu: Gpu, label: string, data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
  return gpu.buffers.upload(label, data);
}

export function empty(gpu: Gpu, label: string, floats: number): GPUBuffer {
  return gpu.buffers.create(label, floats * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
}

/** Runs dispatches in one compute pass and waits for them. Validation errors reject. */
export async function run(gpu: Gpu, dispatches: Dispatch[]): Promise<void> {
  gpu.device.pushErrorScope('validation');
  const encoder = gpu.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encode(pass, dispatches);
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
  const error = await gpu.device.popErrorScope();
  if (error) throw new Error(error.message);
  await gpu.device.queue.onSubmittedWorkDone();
}

export async function readF32(gpu: Gpu, buffer: GPUBuffer, floats?: number): Promise<Float32Array> {
  return new Float32Array(await gpu.read(buffer, (floats ?? buffer.size / 4) * 4));
}

export async function readU32(gpu: Gpu, buffer: GPUBuffer, count?: number): Promise<Uint32Array> {
  return new Uint32Array(await gpu.read(buffer, (count ?? buffer.size / 4) * 4));
}

export interface Closeness {
  ok: boolean;
  message: string;
  maxAbs: number;
}

/**
 * Elementwise |actual − expected| ≤ atol + rtol·|expected| (numpy's allclose), with the worst
 * element named in the message. Defaults are tinygrad's forward tolerances for f32.
 */
export function compare(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-6, rtol = 1e-3): Closeness {
  if (actual.length !== expected.length) {
    return { ok: false, message: `${name}: length ${actual.length} ≠ expected ${expected.length}`, maxAbs: Infinity };
  }
  let maxAbs = 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (!(diff <= maxAbs)) maxAbs = Number.isNaN(diff) ? Infinity : Math.max(maxAbs, diff);
    const excess = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(expected[i]!));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  const ok = worst < 0;
  const message = ok
    ? `${name}: ${actual.length} values within atol ${atol} rtol ${rtol} (max |diff| ${maxAbs.toExponential(2)})`
    : `${name}: element ${worst} is ${actual[worst]} but expected ${expected[worst]} (atol ${atol}, rtol ${rtol}; max |diff| ${maxAbs.toExponential(2)})`;
  return { ok, message, maxAbs };
}

/** A Step uniform (src/engine/step.ts) holding one step's values, for kernels that read batchStart, t or lr. */
export function stepUniform(gpu: Gpu, step: StepParams): GPUBuffer {
  const buffer = gpu.buffers.create('step', STEP_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  writeStep(gpu, buffer, step);
  return buffer;
}

/** Overwrites a Step uniform before the next submission (a recorded dispatch keeps its binding). */
export function writeStep(gpu: Gpu, buffer: GPUBuffer, step: StepParams): void {
  gpu.device.queue.writeBuffer(buffer, 0, packSteps([step]), 0, STEP_BYTES);
}

/** Central differences of `loss` in every element of `values` (perturbed in place and restored). */
export function centralDifferences(values: Float64Array, loss: () => number, h: number): Float64Array {
  return values.map((v, i) => {
    values[i] = v + h;
    const up = loss();
    values[i] = v - h;
    const down = loss();
    values[i] = v;
    return (up - down) / (2 * h);
  });
}

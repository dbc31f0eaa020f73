/**
 * Finite-difference gradient check through a whole model: the GPU backward (every layer's backward
 * kernels, chained by Sequential) against central differences of the GPU forward loss.
 */
import { encode, type Dispatch } from '../../src/gpu/kernel.ts';
import { buildLayers } from '../../src/layers/build.ts';
import { Sequential } from '../../src/graph/sequential.ts';
import { binding } from '../../src/graph/tensor.ts';
import { createTotals, softmaxCrossEntropy } from '../../src/engine/loss.ts';
import type { LayerSpec } from '../../src/graph/spec.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import type { KernelChoice } from '../../src/gpu/target.ts';
import { Rng } from '../../src/data/random.ts';
import { compare, randomArray, readF32, stepUniform, storage, testGpu, type Closeness } from './util.ts';

const CLASSES = 4;

/** Central differences against the backward of a model of `layerSpecs`, built and run under `kernels`. */
export async function gradCheck(layerSpecs: LayerSpec[], inputShape: number[], rows: number, seed: number, h: number, samplesPerTensor = 24, kernels: KernelChoice = 'auto'): Promise<Closeness[]> {
  const gpu = (await testGpu()).withTarget(kernels);
  const stop = gpu.buffers.record();
  const model = new Sequential(gpu, inputShape, buildLayers(layerSpecs), rows, seed, { inputGradient: true });
  const step = stepUniform(gpu, { batchStart: 0, t: 1, seed: 7, lr: 0 });
  const inputSize = model.input.size;
  gpu.device.queue.writeBuffer(model.input.buffer, 0, randomArray(inputSize, seed + 1));
  const rng = new Rng(seed + 2);
  const labels = storage(gpu, 'labels', Uint32Array.from({ length: rows }, () => rng.int(CLASSES)));
  const totals = createTotals(gpu);
  const plan = model.plan(rows, 'train', step);
  const loss = softmaxCrossEntropy(gpu, { mode: 'train', logits: binding(model.output), labels, totals, dLogits: binding(model.dOutput), rows, classes: CLASSES });

  await submit(gpu, totals, [...plan.forward, loss, ...plan.backward]);
  const analytic = { params: await readF32(gpu, model.grads), input: await readF32(gpu, model.inputGrad!.buffer) };
  const meanLoss = async () => {
    await submit(gpu, totals, [...plan.forward, loss]);
    return new Float32Array(await gpu.read(totals, 4))[0]! / rows;
  };
  /** Central difference of the loss in one f32 value of `buffer`. */
  const numeric = async (buffer: GPUBuffer, index: number, value: number) => {
    const write = (v: number) => gpu.device.queue.writeBuffer(buffer, index * 4, new Float32Array([v]));
    write(value + h);
    const up = await meanLoss();
    write(value - h);
    const down = await meanLoss();
    write(value);
    return (up - down) / (2 * h);
  };

  const results: Closeness[] = [];
  const params = await readF32(gpu, model.params);
  for (const entry of model.paramEntries) {
    const picks = pick(entry.size, samplesPerTensor, rng);
    const fd = [];
    for (const i of picks) fd.push(await numeric(model.params, entry.offset + i, params[entry.offset + i]!));
    results.push(check(entry.name, picks.map((i) => analytic.params[entry.offset + i]!), fd));
  }
  const input = await readF32(gpu, model.input.buffer, inputSize);
  const picks = pick(inputSize, samplesPerTensor, rng);
  const fd = [];
  for (const i of picks) fd.push(await numeric(model.input.buffer, i, input[i]!));
  results.push(check('input', picks.map((i) => analytic.input[i]!), fd));
  for (const buffer of stop()) gpu.buffers.release(buffer);
  return results;
}

/** The forward dispatches of a training plan of `layerSpecs` under `kernels`: which kernels, rungs and defines the model runs. */
export async function forwardKernels(layerSpecs: LayerSpec[], inputShape: number[], rows: number, kernels: KernelChoice) {
  const gpu = (await testGpu()).withTarget(kernels);
  const stop = gpu.buffers.record();
  const model = new Sequential(gpu, inputShape, buildLayers(layerSpecs), rows, 1, { inputGradient: true });
  const plan = model.plan(rows, 'train', stepUniform(gpu, { batchStart: 0, t: 1, seed: 7, lr: 0 }));
  const kernelsRun = plan.forward.map((d) => ({ label: d.label, entry: d.entry, rung: d.rung?.index ?? null, defines: d.defines }));
  for (const buffer of stop()) gpu.buffers.release(buffer);
  return kernelsRun;
}

/**
 * f32 forward passes make the difference quotient noisy by about ε·|loss|/h ≈ 1e-7/h, and the
 * O(h²) truncation adds a little more: hence atol 2e-4 with rtol 2e-2 (ConvNetJS accepts 1e-2 relative).
 */
function check(name: string, analytic: number[], numeric: number[]): Closeness {
  return compare(`∂loss/∂${name}`, analytic, numeric, 2e-4, 2e-2);
}

function pick(size: number, count: number, rng: Rng): number[] {
  if (size <= count) return Array.from({ length: size }, (_, i) => i);
  return Array.from({ length: count }, () => rng.int(size));
}

async function submit(gpu: Gpu, totals: GPUBuffer, dispatches: Dispatch[]): Promise<void> {
  const encoder = gpu.device.createCommandEncoder();
  encoder.clearBuffer(totals);
  const pass = encoder.beginComputePass();
  encode(pass, dispatches);
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
}

/**
 * The same model built twice from one seed, with activations fused into their dense/conv2d neighbours
 * (the default) and with every activation running its own kernels: one training step's output, loss
 * gradients of every parameter and of the input must agree. Both do the same f32 operations in the same
 * order, so they agree to rounding (rtol 1e-6); the unfused model is the one the finite-difference
 * checks and float64 references vouch for. Also returns both dispatch counts, so a test can see that
 * fusion happened.
 */
export async function fusedMatchesUnfused(layerSpecs: LayerSpec[], inputShape: number[], rows: number, seed: number): Promise<{ results: Closeness[]; dispatches: { fused: number; unfused: number } }> {
  const gpu = await testGpu();
  const stop = gpu.buffers.record();
  const step = stepUniform(gpu, { batchStart: 0, t: 1, seed: 7, lr: 0 });
  const rng = new Rng(seed + 2);
  const labels = storage(gpu, 'labels', Uint32Array.from({ length: rows }, () => rng.int(CLASSES)));
  const input = randomArray(rows * inputShape.reduce((a, b) => a * b, 1), seed + 1);
  const runModel = async (fuseActivations: boolean) => {
    const model = new Sequential(gpu, inputShape, buildLayers(layerSpecs), rows, seed, { inputGradient: true, fuseActivations });
    gpu.device.queue.writeBuffer(model.input.buffer, 0, input);
    const totals = createTotals(gpu);
    const plan = model.plan(rows, 'train', step);
    const loss = softmaxCrossEntropy(gpu, { mode: 'train', logits: binding(model.output), labels, totals, dLogits: binding(model.dOutput), rows, classes: CLASSES });
    await submit(gpu, totals, [...plan.forward, loss, ...plan.backward]);
    return {
      output: await readF32(gpu, model.output.buffer, model.output.size),
      grads: await readF32(gpu, model.grads),
      input: await readF32(gpu, model.inputGrad!.buffer),
      dispatches: plan.forward.length + plan.backward.length,
    };
  };
  const fused = await runModel(true);
  const unfused = await runModel(false);
  const results = (['output', 'grads', 'input'] as const).map((name) => compare(`fused ${name}`, fused[name], unfused[name], 0, 1e-6));
  for (const buffer of stop()) gpu.buffers.release(buffer);
  return { results, dispatches: { fused: fused.dispatches, unfused: unfused.dispatches } };
}

/**
 * A model reading its input batch as bytes (Sequential's u8x4 input: the first dense layer unpacks them)
 * against the same model, same seed, given byte / 255 as f32: one training step's output and every
 * parameter's gradient must agree. Both sum the same products in the same order; the bytes become
 * byte / 255 in the kernel rather than in the gather (each correctly rounded or within an ulp), so rtol
 * 1e-5. Also says which of the two models read bytes, and whether a conv2d-first model or one asked for
 * an input gradient would (neither can).
 */
export async function bytesMatchFloats(layerSpecs: LayerSpec[], inputShape: number[], rows: number, seed: number) {
  const gpu = await testGpu();
  const stop = gpu.buffers.record();
  const step = stepUniform(gpu, { batchStart: 0, t: 1, seed: 7, lr: 0 });
  const rng = new Rng(seed + 2);
  const labels = storage(gpu, 'labels', Uint32Array.from({ length: rows }, () => rng.int(CLASSES)));
  const bytes = Uint8Array.from({ length: rows * inputShape.reduce((a, b) => a * b, 1) }, () => rng.int(256));
  const runModel = async (inputBytes: boolean) => {
    const model = new Sequential(gpu, inputShape, buildLayers(layerSpecs), rows, seed, { inputFormat: inputBytes ? 'u8x4' : 'f32' });
    gpu.device.queue.writeBuffer(model.input.buffer, 0, readsBytes(model) ? bytes : Float32Array.from(bytes, (v) => v / 255));
    const totals = createTotals(gpu);
    const plan = model.plan(rows, 'train', step);
    const loss = softmaxCrossEntropy(gpu, { mode: 'train', logits: binding(model.output), labels, totals, dLogits: binding(model.dOutput), rows, classes: CLASSES });
    await submit(gpu, totals, [...plan.forward, loss, ...plan.backward]);
    return { inputBytes: readsBytes(model), output: await readF32(gpu, model.output.buffer, model.output.size), grads: await readF32(gpu, model.grads) };
  };
  const asBytes = await runModel(true);
  const asFloats = await runModel(false);
  const results = (['output', 'grads'] as const).map((name) => compare(`bytes ${name}`, asBytes[name], asFloats[name], 1e-7, 1e-5));
  const conv: LayerSpec[] = [{ type: 'conv2d', out: 2, kernel: 3 }, { type: 'flatten' }, { type: 'dense', out: CLASSES }];
  const granted = {
    bytes: asBytes.inputBytes,
    floats: asFloats.inputBytes,
    convFirst: readsBytes(new Sequential(gpu, [1, 8, 8], buildLayers(conv), rows, seed, { inputFormat: 'u8x4' })),
    withInputGradient: readsBytes(new Sequential(gpu, inputShape, buildLayers(layerSpecs), rows, seed, { inputFormat: 'u8x4', inputGradient: true })),
  };
  for (const buffer of stop()) gpu.buffers.release(buffer);
  return { results, granted };
}

function readsBytes(model: Sequential): boolean {
  return model.input.format === 'u8x4';
}

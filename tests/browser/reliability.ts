/** Browser side of tests/reliability.spec.ts: checkpoints, resume, faults, determinism, memory, limits. */
import { fetchFromServer, loadMnist, type Mnist } from '../../src/data/mnist.ts';
import { Gpu } from '../../src/gpu/gpu.ts';
import type { KernelChoice } from '../../src/gpu/target.ts';
import { buildLayers } from '../../src/layers/build.ts';
import { Sequential } from '../../src/graph/sequential.ts';
import { presetConfig } from '../../src/presets/index.ts';
import { decodeSafetensors, encodeCheckpoint, encodeSafetensors, loadCheckpoint, readCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.ts';
import type { TrainConfig } from '../../src/train/config.ts';
import { uploadMnist, type DeviceData } from '../../src/engine/device-data.ts';
import { checkDispatches } from '../../src/train/limits.ts';
import type { EpochRecord, RunResult } from '../../src/train/result.ts';
import { evaluateCheckpoint, train } from '../../src/train/trainer.ts';
import type { RunOptions, TrainHooks } from '../../src/train/loop.ts';
import { testGpu } from './util.ts';

let mnistPromise: Promise<Mnist> | null = null;
/** MNIST uploaded once per device: views of one device (gpu.withTarget) share it. */
const devices = new Map<GPUDevice, DeviceData>();

async function setup(gpu?: Gpu): Promise<{ gpu: Gpu; mnist: Mnist; data: DeviceData }> {
  mnistPromise ??= loadMnist(fetchFromServer('/mnist/'));
  const mnist = await mnistPromise;
  const g = gpu ?? (await testGpu());
  let data = devices.get(g.device);
  if (!data) devices.set(g.device, (data = uploadMnist(g, mnist)));
  return { gpu: g, mnist, data };
}

/** A small, quick MLP run; `overrides` on top. */
function small(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return presetConfig('custom', { hidden: [32], batchSize: 100, trainLimit: 1000, valFraction: 0.2, epochs: 2, lr: 0.003, ...overrides });
}

type Weights = Record<string, number[]>;

async function weightsOf(model: Sequential): Promise<Weights> {
  const out: Weights = {};
  for (const [name, t] of await model.exportTensors()) out[name] = Array.from(t.data);
  return out;
}

/** Epoch records without their wall-clock time, which is the only thing allowed to differ between runs. */
const history = (epochs: EpochRecord[]) => epochs.map(({ ms: _ms, ...rest }) => rest);

async function run(config: TrainConfig, hooks: TrainHooks = {}, options: RunOptions = {}, gpu?: Gpu) {
  const env = await setup(gpu);
  const outcome = await train(env.gpu, env.data, env.mnist, config, hooks, options);
  const weights = outcome.result.epochs.length > 0 && !env.gpu.lostReason ? await weightsOf(outcome.model) : {};
  outcome.release();
  return { result: outcome.result, weights };
}

/** 4 epochs straight vs 2 epochs, a checkpoint, a stop, and a resume to 4, all under `kernels`: the same history, weights and test. */
export async function resumeMatchesUninterrupted(kernels: KernelChoice = 'auto') {
  const gpu = (await testGpu()).withTarget(kernels);
  // StepLR and early-stopping bookkeeping both cross the checkpoint; Adam's moments and t too.
  const config = small({ epochs: 4, stepSize: 2, gamma: 0.5, patience: 3, convs: [{ out: 4, kernel: 5, stride: 2, padding: 0 }], batchnorm: true, dropoutLast: 0.25 });
  const straight = await run(config, {}, {}, gpu);
  let checkpoint: Uint8Array | null = null;
  let finished = 0;
  const first = await run(config, {
    onEpoch: () => finished++,
    onCheckpoint: (bytes) => void (checkpoint = bytes),
    shouldContinue: () => finished < 2,
  }, { checkpointEvery: 1 }, gpu);
  const resumed = await run(config, {}, { resume: checkpoint!, resumeFile: 'epoch2.safetensors' }, gpu);
  const saved = readCheckpoint(checkpoint!, 'epoch2.safetensors');
  return {
    straight: { history: history(straight.result.epochs), weights: straight.weights, test: straight.result.test, bestEpoch: straight.result.bestEpoch },
    resumed: { history: history(resumed.result.epochs), weights: resumed.weights, test: resumed.result.test, bestEpoch: resumed.result.bestEpoch },
    interrupted: first.result.interrupted ?? null,
    firstEpochs: first.result.epochs.length,
    checkpointEpoch: saved.training?.epoch ?? null,
    checkpointStep: saved.training?.optimizerStep ?? null,
    trainingTensors: [...saved.trainingTensors.keys()].sort(),
    resumedInterrupted: resumed.result.interrupted ?? null,
  };
}

/** Resume refusals: a finished model (no training state), a changed config. */
export async function resumeRefusals() {
  const env = await setup();
  const before = env.gpu.buffers.stats();
  const outcome = await train(env.gpu, env.data, env.mnist, small({ epochs: 1 }));
  const finished = await saveCheckpoint(outcome.model, small({ epochs: 1 }));
  let checkpoint: Uint8Array | null = null;
  outcome.release();
  const withState = await train(env.gpu, env.data, env.mnist, small({ epochs: 1 }), { onCheckpoint: (b) => void (checkpoint = b) }, { checkpointEvery: 1 });
  withState.release();
  const attempt = async (config: TrainConfig, bytes: Uint8Array) => {
    try {
      (await train(env.gpu, env.data, env.mnist, config, {}, { resume: bytes, resumeFile: 'ck.safetensors' })).release();
      return 'accepted';
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };
  return {
    finishedModel: await attempt(small({ epochs: 2 }), finished),
    changedLr: await attempt(small({ epochs: 2, lr: 0.1 }), checkpoint!),
    leakedBuffers: env.gpu.buffers.stats().buffers - before.buffers,
  };
}

/** Same seed twice: bit-identical; another seed: other initial weights, shuffles and history. */
export async function determinism(kernels: KernelChoice = 'auto') {
  const view = (await testGpu()).withTarget(kernels);
  const a = await run(small({ seed: 7, dropoutLast: 0.25 }), {}, {}, view);
  const b = await run(small({ seed: 7, dropoutLast: 0.25 }), {}, {}, view);
  const c = await run(small({ seed: 8, dropoutLast: 0.25 }), {}, {}, view);
  const { gpu } = await setup(view);
  const initial = async (seed: number) => {
    const stop = gpu.buffers.record();
    const model = new Sequential(gpu, [1, 28, 28], buildLayers(small().layers), 1, seed);
    const weights = await weightsOf(model);
    for (const buffer of stop()) gpu.buffers.release(buffer);
    return weights;
  };
  const [i7, i7again, i8] = [await initial(7), await initial(7), await initial(8)];
  return {
    sameHistory: JSON.stringify(history(a.result.epochs)) === JSON.stringify(history(b.result.epochs)),
    sameWeights: JSON.stringify(a.weights) === JSON.stringify(b.weights),
    sameTest: JSON.stringify(a.result.test) === JSON.stringify(b.result.test),
    otherSeedHistory: JSON.stringify(history(a.result.epochs)) !== JSON.stringify(history(c.result.epochs)),
    otherSeedWeights: JSON.stringify(a.weights) !== JSON.stringify(c.weights),
    sameInitial: JSON.stringify(i7) === JSON.stringify(i7again),
    otherInitial: JSON.stringify(i7) !== JSON.stringify(i8),
    trainLosses: a.result.epochs.map((e) => e.trainLoss),
  };
}

/** A learning rate that overflows float32: the run stops at the epoch, naming the step. */
export async function nonFiniteLoss(overrides: Partial<TrainConfig>) {
  const { result, weights } = await run(small(overrides));
  return { interrupted: result.interrupted ?? null, epochs: result.epochs.length, losses: result.epochs.map((e) => [e.trainLoss, e.valLoss]), bestEpoch: result.bestEpoch, testAccuracy: result.test.accuracy, perClass: result.test.perClass.length, finiteWeights: Object.values(weights).flat().every(Number.isFinite) };
}

/**
 * A NaN after a good epoch: epoch 1 trains normally and checkpoints; its model's output bias is then
 * set to NaN (the best-epoch copy is left alone) and the run resumed. Epoch 2's first step must be
 * named, epoch 2 not reported, and the test report must be epoch 1's, from the kept best weights.
 */
export async function nonFiniteAfterGoodEpoch() {
  const config = small({ epochs: 3 });
  let checkpoint: Uint8Array | null = null;
  let finished = 0;
  const first = await run(config, { onEpoch: () => finished++, onCheckpoint: (b) => void (checkpoint = b), shouldContinue: () => finished < 1 }, { checkpointEvery: 1 });
  const { tensors, metadata } = decodeSafetensors(checkpoint!);
  // A NaN output bias makes every logit, so the very first loss of epoch 2, NaN.
  tensors.set('3.bias', { shape: [10], data: new Float32Array(10).fill(NaN) });
  const poisoned = encodeSafetensors(tensors, metadata);
  const resumed = await run(config, {}, { resume: poisoned, resumeFile: 'poisoned.safetensors' });
  return {
    interrupted: resumed.result.interrupted ?? null,
    epochs: resumed.result.epochs.length,
    bestEpoch: resumed.result.bestEpoch,
    sameTestAsEpoch1: JSON.stringify(resumed.result.test) === JSON.stringify(first.result.test),
    finiteWeights: Object.values(resumed.weights).flat().every(Number.isFinite),
  };
}

/** Destroys a fresh device mid-epoch: the run ends with the reason, keeps its history and its last checkpoint. */
export async function deviceLoss() {
  const gpu = await Gpu.create();
  const checkpoints: number[] = [];
  let last: Uint8Array | null = null;
  const config = small({ epochs: 3 });
  // 800 training images / 100 = 8 steps per epoch: destroy during epoch 2.
  const { result } = await run(config, { onCheckpoint: (bytes, epoch) => { checkpoints.push(epoch); last = bytes; } }, { checkpointEvery: 1, destroyDeviceAfterSteps: 12 }, gpu);
  const lost = await Promise.race([gpu.lost, new Promise((r) => setTimeout(() => r('not lost'), 5000))]);
  devices.delete(gpu.device);
  const saved = last ? readCheckpoint(last, 'last.safetensors') : null;
  return { interrupted: result.interrupted ?? null, epochs: result.epochs.length, losses: result.epochs.map((e) => [e.trainLoss, e.valLoss]), lost, checkpoints, checkpointEpoch: saved?.training?.epoch ?? null, testPerClass: result.test.perClass.length };
}

/** Live buffers and bytes per epoch over 30 epochs, before the run and after release(). */
export async function memory() {
  const { gpu } = await setup();
  const before = gpu.buffers.stats();
  const perEpoch: { buffers: number; bytes: number }[] = [];
  const env = await setup();
  const outcome = await train(env.gpu, env.data, env.mnist, small({ epochs: 30, trainLimit: 500, batchSize: 50 }), { onEpoch: () => perEpoch.push(gpu.buffers.stats()) }, { checkpointEvery: 10, });
  const during = gpu.buffers.stats();
  outcome.release();
  return { before, perEpoch, during, after: gpu.buffers.stats(), epochs: outcome.result.epochs.length };
}

/** Gpu.destroy() frees every buffer the pool holds. */
export async function destroyReleasesEverything() {
  const gpu = await Gpu.create();
  const env = await setup(gpu);
  await train(gpu, env.data, env.mnist, small({ epochs: 1 }));
  const live = gpu.buffers.stats();
  gpu.destroy();
  devices.delete(gpu.device);
  return { live, after: gpu.buffers.stats() };
}

/** A model or batch too large for the adapter is refused before any allocation, naming the sizes. */
export async function limits() {
  const { gpu } = await setup();
  const before = gpu.buffers.stats();
  const attempt = async (overrides: Partial<TrainConfig>) => {
    try {
      await run(small(overrides));
      return 'accepted';
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  };
  // The widest layer the config allows, with a batch just large enough that its activations exceed the binding limit.
  const batchSize = Math.floor(gpu.limits.maxStorageBufferBindingSize / (65536 * 4)) + 1;
  const wideLayer = await attempt({ hidden: [65536], batchSize, trainLimit: Math.min(60000, Math.ceil(batchSize / 0.8) + 10) });
  let dispatch = 'accepted';
  try {
    checkDispatches(gpu.limits.maxComputeWorkgroupsPerDimension, [{ label: 'matmul.forward', workgroups: [gpu.limits.maxComputeWorkgroupsPerDimension + 1, 1, 1] }]);
  } catch (error) {
    dispatch = `${(error as Error).name}: ${(error as Error).message}`;
  }
  let buffer = 'accepted';
  try {
    gpu.buffers.create('huge', gpu.limits.maxBufferSize + 4, GPUBufferUsage.STORAGE);
  } catch (error) {
    buffer = `${(error as Error).name}: ${(error as Error).message}`;
  }
  return {
    wideLayer, batchSize, dispatch, buffer, leaked: gpu.buffers.stats().buffers - before.buffers,
    maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize, maxBufferSize: gpu.limits.maxBufferSize,
  };
}

/**
 * Save → load into a fresh model of another seed → the same tensors; evaluateCheckpoint gives the run's
 * own test report; every damaged file is refused with a CheckpointError and leaves the model untouched.
 */
export async function checkpointRoundTrip() {
  const env = await setup();
  const config = small({ epochs: 1 });
  const outcome = await train(env.gpu, env.data, env.mnist, config);
  const bytes = await saveCheckpoint(outcome.model, config);
  const trained = await weightsOf(outcome.model);
  const runTest = outcome.result.test;
  outcome.release();

  const stop = env.gpu.buffers.record();
  const fresh = new Sequential(env.gpu, config.inputShape, buildLayers(config.layers), 1, 99);
  const untouched = await weightsOf(fresh);
  const { tensors, metadata } = decodeSafetensors(bytes);
  const refusals: Record<string, string> = {};
  const refuse = async (name: string, damaged: Uint8Array) => {
    try {
      loadCheckpoint(fresh, damaged, `${name}.safetensors`);
      refusals[name] = 'accepted';
    } catch (error) {
      refusals[name] = `${(error as Error).name}: ${(error as Error).message}`;
    }
  };
  await refuse('not-safetensors', new TextEncoder().encode('PK\u0003\u0004 this is a zip file, not a model'));
  await refuse('truncated', bytes.subarray(0, bytes.length - 100));
  await refuse('header-truncated', bytes.subarray(0, 40));
  const wrongShape = new Map(tensors);
  wrongShape.set('1.weight', { shape: [16, 784], data: new Float32Array(16 * 784) });
  await refuse('wrong-shape', encodeSafetensors(wrongShape, metadata));
  const missing = new Map(tensors);
  missing.delete('3.bias');
  await refuse('missing', encodeSafetensors(missing, metadata));
  const other = small({ hidden: [64] });
  await refuse('architecture', encodeCheckpoint(tensors, other));
  const unchangedAfterRefusals = JSON.stringify(await weightsOf(fresh)) === JSON.stringify(untouched);

  loadCheckpoint(fresh, bytes, 'model.safetensors');
  const loaded = await weightsOf(fresh);
  for (const buffer of stop()) env.gpu.buffers.release(buffer);
  const evaluated = await evaluateCheckpoint(env.gpu, env.data, env.mnist, bytes, 'model.safetensors');
  return {
    names: [...tensors.keys()],
    shapes: Object.fromEntries([...tensors].map(([n, t]) => [n, t.shape])),
    metadataKeys: Object.keys(metadata).sort(),
    metadataConfig: JSON.parse(metadata.config!) as TrainConfig,
    loadedEqualsTrained: JSON.stringify(loaded) === JSON.stringify(trained),
    freshDiffered: JSON.stringify(untouched) !== JSON.stringify(trained),
    unchangedAfterRefusals,
    refusals,
    sameTest: JSON.stringify(evaluated.test) === JSON.stringify(runTest),
    evaluatedAccuracy: evaluated.test.accuracy,
  };
}

export type { RunResult };

/**
 * TensorFlow.js on its WebGPU or wasm backend (one per page). Two training paths, so the runner can
 * report the faster: a custom loop of `optimizer.minimize` (what tfjs recommends for speed), and
 * Keras-style `model.fit` over k batches at a time. The model is a Layers model with logits out
 * and `tf.losses.softmaxCrossEntropy`, tfjs's native NHWC layout, Adam lr 1e-3.
 */
import * as tf from '@tensorflow/tfjs';
import type { StepTrainer } from './measure.ts';
import type { Batch } from './mnist.ts';
import { LEARNING_RATE, type Workload } from './workloads.ts';

export type TfjsBackend = 'webgpu' | 'wasm';
export type TfjsPath = 'minimize' | 'fit';

/** Loads one backend's package and makes it current. Wasm binaries come from node_modules through Vite, not a CDN. */
async function useBackend(backend: TfjsBackend, notes: string[]): Promise<void> {
  if (backend === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  } else {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start its wasm backend');
    // Cross-origin isolation (set by the runner) lets tfjs pick its threaded SIMD binary.
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    notes.push(`wasm ${simd && threaded ? 'threaded-simd' : simd ? 'simd' : 'plain'} binary, XNNPACK reports ${wasm.getThreadsCount()} thread(s)`);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs could not start its ${backend} backend`);
  await tf.ready();
}

function buildModel(workload: Workload): tf.Sequential {
  if (workload === 'mlp') {
    return tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
        tf.layers.dense({ units: 64, activation: 'relu' }),
        tf.layers.dense({ units: 10 }),
      ],
    });
  }
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 5, strides: 2, padding: 'valid', activation: 'relu' }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** Resolves once the device has finished all issued work: a readback (it flushes tfjs's queue) and a queue fence. */
async function deviceSync(model: tf.Sequential): Promise<void> {
  const weights = model.trainableWeights;
  await weights[weights.length - 1]!.read().data();
  const backend = tf.backend() as { device?: GPUDevice };
  await backend.device?.queue.onSubmittedWorkDone();
}

export async function tfjsTrainer(
  backend: TfjsBackend,
  path: TfjsPath,
  workload: Workload,
  batch: number,
  batches: Batch[],
  notes: string[],
): Promise<StepTrainer> {
  await useBackend(backend, notes);
  const shape: number[] = workload === 'mlp' ? [batch, 784] : [batch, 28, 28, 1];
  const data = batches.map((b) => ({ x: tf.tensor(b.images, shape), y: tf.tensor2d(b.oneHot, [batch, 10]) }));
  const model = buildModel(workload);
  const optimizer = tf.train.adam(LEARNING_RATE);
  const lossOf = (y: tf.Tensor, logits: tf.Tensor): tf.Scalar => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  let next = 0;
  const dispose = () => {
    tf.dispose(data.flatMap((d) => [d.x, d.y]));
    model.dispose();
    optimizer.dispose();
  };

  if (path === 'minimize') {
    let loss: tf.Scalar | null = null;
    return {
      step() {
        const { x, y } = data[next++ % data.length]!;
        loss?.dispose();
        loss = optimizer.minimize(() => lossOf(y, model.apply(x, { training: true }) as tf.Tensor), true);
      },
      sync: () => deviceSync(model),
      loss: async () => (loss ? (await loss.data())[0]! : NaN),
      dispose() {
        loss?.dispose();
        dispose();
      },
    };
  }

  // model.fit: one call trains on k batches in a row (no per-batch readback; yieldEvery 'never' so
  // it does not wait for animation frames between batches).
  model.compile({ optimizer, loss: lossOf });
  const inputs = new Map<number, { x: tf.Tensor; y: tf.Tensor }>();
  let lastLoss = NaN;
  const fitSteps = async (k: number) => {
    let group = inputs.get(k);
    if (!group) {
      const picked = Array.from({ length: k }, (_, i) => data[i % data.length]!);
      group = { x: tf.concat(picked.map((d) => d.x)), y: tf.concat(picked.map((d) => d.y)) };
      inputs.set(k, group);
    }
    const history = await model.fit(group.x, group.y, { batchSize: batch, epochs: 1, shuffle: false, verbose: 0, yieldEvery: 'never' });
    lastLoss = Number(history.history.loss![0]);
  };
  return {
    step: () => fitSteps(1),
    steps: fitSteps,
    sync: () => deviceSync(model),
    loss: async () => lastLoss,
    dispose() {
      for (const group of inputs.values()) tf.dispose([group.x, group.y]);
      dispose();
    },
  };
}

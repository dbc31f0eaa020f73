/**
 * TensorFlow.js on its WebGPU or wasm backend (one per page). Two training paths, so the runner can
 * report the faster: a custom loop of `optimizer.minimize` (what tfjs recommends for speed), and
 * Keras-style `model.fit` over k batches at a time. The model is a Layers model with logits out
 * and `tf.losses.softmaxCrossEntropy`, tfjs's native NHWC layout, Adam lr 1e-3.
 */
import * as tf from '@tensorflow/tfjs';
import { validationScore, type StepTrainer } from './measure.ts';
import { passBatches, type Batch, type BatchSource, type ValidationPass } from './mnist.ts';
import type { Findings } from './peers.ts';
import { LEARNING_RATE, type WasmThreads, type Workload } from './workloads.ts';

export type TfjsBackend = 'webgpu' | 'wasm';
export type TfjsPath = 'minimize' | 'fit';

/**
 * Loads one backend's package and makes it current. Wasm binaries come from node_modules through
 * Vite, not a CDN. tfjs-wasm gets `wasmThreads` threads; but its C++ caps the pool at
 * navigator.hardwareConcurrency / 2 (it takes every core for two hyperthreads), which on a machine of
 * single-threaded cores would leave half of them idle, so it is shown twice the count asked for.
 * Its threaded binary needs SharedArrayBuffer, so the page must be cross-origin isolated (the
 * runner's COOP/COEP headers), else tfjs falls back to one thread.
 */
async function useBackend(backend: TfjsBackend, findings: Findings, wasmThreads: number): Promise<void> {
  const wasm = backend === 'wasm' ? await import('@tensorflow/tfjs-backend-wasm') : await import('@tensorflow/tfjs-backend-webgpu').then(() => null);
  if (wasm) {
    wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    wasm.setThreadsCount(wasmThreads);
    Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * wasmThreads, configurable: true });
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs could not start its ${backend} backend`);
  await tf.ready();
  if (wasm) findings.wasm = await wasmThreadsRan(wasmThreads, wasm.getThreadsCount());
}

/** Which wasm binary tfjs loaded and the threads it runs of the `requested`, and if not all of them, why. */
async function wasmThreadsRan(requested: number, threads: number): Promise<WasmThreads> {
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multithread = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const binary = simd && multithread ? 'threaded-simd' : simd ? 'simd' : 'plain';
  const lacking = [multithread ? '' : 'threads', simd ? '' : 'SIMD'].filter(Boolean).join(' or ');
  const whyNotThreaded = !crossOriginIsolated
    ? 'the page is not cross-origin isolated (no COOP/COEP headers), so there is no SharedArrayBuffer'
    : lacking
      ? `tfjs found no wasm ${lacking} here, so it loaded the ${binary} binary`
      : threads < requested
        ? `XNNPACK started ${threads} of the ${requested} threads asked for`
        : null;
  return { crossOriginIsolated, requested, threads, binary, ...(whyNotThreaded ? { whyNotThreaded } : {}) };
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

function joinBatches(batches: Batch[]): Batch {
  const images = new Float32Array(batches.reduce((sum, b) => sum + b.images.length, 0));
  const oneHot = new Float32Array(batches.reduce((sum, b) => sum + b.oneHot.length, 0));
  const labels = new Uint8Array(batches.reduce((sum, b) => sum + b.labels.length, 0));
  let row = 0;
  for (const b of batches) {
    images.set(b.images, row * 784);
    oneHot.set(b.oneHot, row * 10);
    labels.set(b.labels, row);
    row += b.labels.length;
  }
  return { images, oneHot, labels };
}

async function readAndDispose(t: tf.Tensor): Promise<ArrayLike<number>> {
  const values = await t.data();
  t.dispose();
  return values;
}

/** Resolves once the device has finished all issued work: a readback (it flushes tfjs's queue) and a queue fence. */
async function deviceSync(model: tf.Sequential): Promise<void> {
  const weights = model.trainableWeights;
  await weights[weights.length - 1]!.read().data();
  const backend = tf.backend() as { device?: GPUDevice };
  await backend.device?.queue.onSubmittedWorkDone();
}

/** `wasmThreads`: the threads the wasm backend asks for (ignored on WebGPU). */
export async function tfjsTrainer(backend: TfjsBackend, path: TfjsPath, workload: Workload, source: BatchSource, findings: Findings, wasmThreads: number): Promise<StepTrainer> {
  await useBackend(backend, findings, wasmThreads);
  /** Input and label tensors of gathered batches (one, or model.fit's k in a row, all but the last full). */
  const tensors = (batches: Batch[]) => {
    const joined = batches.length === 1 ? batches[0]! : joinBatches(batches);
    const rows = joined.labels.length;
    return { x: tf.tensor(joined.images, workload === 'mlp' ? [rows, 784] : [rows, 28, 28, 1]), y: tf.tensor2d(joined.oneHot, [rows, 10]) };
  };
  const model = buildModel(workload);
  const optimizer = tf.train.adam(LEARNING_RATE);
  const lossOf = (y: tf.Tensor, logits: tf.Tensor): tf.Scalar => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  const common = {
    stepsPerEpoch: source.stepsPerEpoch,
    validationBatchCount: source.validationBatchCount,
    validationImages: source.validationImages,
    startEpoch: () => source.startEpoch(),
    sync: () => deviceSync(model),
    validate: (pass: ValidationPass) =>
      validationScore(passBatches(source.validationBatchCount, pass).map((i) => {
        const batch = source.validationBatch(i);
        const { x, y } = tensors([batch]);
        const logits = model.predict(x) as tf.Tensor;
        const lossSum = tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.SUM);
        const predicted = tf.argMax(logits, 1);
        tf.dispose([x, y, logits]);
        return { labels: batch.labels, lossSum: async () => (await readAndDispose(lossSum))[0]!, predicted: () => readAndDispose(predicted) };
      })),
  };
  const dispose = () => {
    model.dispose();
    optimizer.dispose();
  };

  if (path === 'minimize') {
    let loss: tf.Scalar | null = null;
    return {
      ...common,
      step() {
        const { x, y } = tensors([source.next()]);
        loss?.dispose();
        loss = optimizer.minimize(() => lossOf(y, model.apply(x, { training: true }) as tf.Tensor), true);
        tf.dispose([x, y]);
      },
      loss: async () => (loss ? (await loss.data())[0]! : NaN),
      dispose() {
        loss?.dispose();
        dispose();
      },
    };
  }

  // model.fit: one call trains on k batches in a row (no per-batch readback; yieldEvery 'never' so
  // it does not wait for animation frames between batches). The batches are already shuffled.
  model.compile({ optimizer, loss: lossOf });
  let lastLoss = NaN;
  const fitSteps = async (k: number) => {
    const { x, y } = tensors(Array.from({ length: k }, () => source.next()));
    const history = await model.fit(x, y, { batchSize: source.batch, epochs: 1, shuffle: false, verbose: 0, yieldEvery: 'never' });
    tf.dispose([x, y]);
    lastLoss = Number(history.history.loss![0]);
  };
  return {
    ...common,
    step: () => fitSteps(1),
    steps: fitSteps,
    loss: async () => lastLoss,
    dispose,
  };
}

/**
 * jax-js on WebGPU: the whole training step (forward, value-and-grad, Adam) is one `jit` function,
 * so jax-js fuses and records it once and replays it, as its docs recommend for training loops.
 * jax-js ships no optimizer (optax is not on npm), so Adam is written out here like optax's
 * `scale_by_adam`. Arrays are reference counted: every use but the last takes `.ref`.
 */
import { blockUntilReady, defaultDevice, getWebGPUDevice, init, jit, lax, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import type { Array as JaxArray } from '@jax-js/jax';
import { Rng } from '../src/data/random.ts';
import { validationScore, type StepTrainer } from './measure.ts';
import { passBatches, type Batch, type BatchSource } from './mnist.ts';
import { initialValues, paramSpecs } from './nets.ts';
import { LEARNING_RATE, type Workload } from './workloads.ts';

type Params = { [name: string]: JaxArray };
type AdamState = { count: JaxArray; m: Params; v: Params };

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

function forward(workload: Workload, batch: number, p: Params, x: JaxArray): JaxArray {
  if (workload === 'mlp') {
    const h1 = nn.relu(np.matmul(x, p.w1!).add(p.b1!));
    const h2 = nn.relu(np.matmul(h1, p.w2!).add(p.b2!));
    return np.matmul(h2, p.w3!).add(p.b3!);
  }
  const image = x.reshape([batch, 1, 28, 28]);
  const h1 = nn.relu(lax.conv(image, p.conv1!, [2, 2], 'VALID').add(p.conv1Bias!.reshape([16, 1, 1])));
  const h2 = nn.relu(lax.conv(h1, p.conv2!, [1, 1], 'VALID').add(p.conv2Bias!.reshape([8, 1, 1])));
  return np.matmul(h2.reshape([batch, 800]), p.dense!).add(p.denseBias!);
}

/** Adam with bias correction, p ← p − lr·m̂/(√v̂ + ε), for every parameter. */
function adam(p: Params, grads: Params, s: AdamState): [Params, AdamState] {
  const count = s.count.add(1);
  const correction1 = np.subtract(1, np.exp(count.ref.mul(Math.log(BETA1))));
  const correction2 = np.subtract(1, np.exp(count.ref.mul(Math.log(BETA2))));
  const next: Params = {};
  const m: Params = {};
  const v: Params = {};
  for (const name of Object.keys(p)) {
    const g = grads[name]!;
    m[name] = s.m[name]!.mul(BETA1).add(g.ref.mul(1 - BETA1));
    v[name] = s.v[name]!.mul(BETA2).add(g.ref.mul(g).mul(1 - BETA2));
    const denominator = np.sqrt(v[name]!.ref.div(correction2.ref)).add(EPSILON);
    next[name] = p[name]!.sub(m[name]!.ref.div(correction1.ref).div(denominator).mul(LEARNING_RATE));
  }
  correction1.dispose();
  correction2.dispose();
  return [next, { count, m, v }];
}

export async function jaxTrainer(workload: Workload, source: BatchSource): Promise<StepTrainer> {
  const devices = await init('webgpu');
  if (!devices.includes('webgpu')) throw new Error(`jax-js found no WebGPU device (has: ${devices.join(', ') || 'none'})`);
  defaultDevice('webgpu');

  const rng = new Rng(1);
  let params: Params = {};
  let state: AdamState = { count: np.zeros([]), m: {}, v: {} };
  for (const spec of paramSpecs(workload)) {
    params[spec.name] = np.array(initialValues(spec, rng), { shape: spec.shape });
    state.m[spec.name] = np.zeros(spec.shape);
    state.v[spec.name] = np.zeros(spec.shape);
  }
  await blockUntilReady([params, state]);

  // Batch size is read from x's shape, so the last, smaller validation batch gets a trace of its own.
  const logitsOf = (p: Params, x: JaxArray): JaxArray => forward(workload, x.shape[0]!, p, x);
  const lossOf = (p: Params, x: JaxArray, y: JaxArray): JaxArray =>
    np.sum(nn.logSoftmax(logitsOf(p, x), -1).mul(y)).mul(-1 / x.shape[0]!);
  const trainStep = jit((p: Params, s: AdamState, x: JaxArray, y: JaxArray) => {
    const [loss, grads] = valueAndGrad(lossOf)(tree.ref(p), x, y);
    const [next, nextState] = adam(p, grads, s);
    return [next, nextState, loss] as [Params, AdamState, JaxArray];
  });
  /** A validation batch's loss sum and predicted classes. */
  const evalStep = jit((p: Params, x: JaxArray, y: JaxArray) => {
    const logits = logitsOf(p, x);
    return [np.sum(nn.logSoftmax(logits.ref, -1).mul(y)).mul(-1), np.argmax(logits, -1)] as [JaxArray, JaxArray];
  });
  const upload = (b: Batch) => ({
    x: np.array(b.images, { shape: [b.labels.length, 784] }),
    y: np.array(b.oneHot, { shape: [b.labels.length, 10] }),
  });

  let loss: JaxArray | null = null;
  return {
    stepsPerEpoch: source.stepsPerEpoch,
    validationBatchCount: source.validationBatchCount,
    validationImages: source.validationImages,
    startEpoch: () => source.startEpoch(),
    step() {
      const { x, y } = upload(source.next());
      loss?.dispose();
      [params, state, loss] = trainStep(params, state, x, y);
    },
    async sync() {
      await blockUntilReady([params, state, loss]);
      await getWebGPUDevice().queue.onSubmittedWorkDone();
    },
    async loss() {
      if (!loss) return NaN;
      return (await loss.ref.data())[0]!;
    },
    validate: (pass) =>
      validationScore(passBatches(source.validationBatchCount, pass).map((i) => {
        const batch = source.validationBatch(i);
        const { x, y } = upload(batch);
        const [lossSum, predicted] = evalStep(tree.ref(params), x, y);
        return { labels: batch.labels, lossSum: async () => (await lossSum.data())[0]!, predicted: () => predicted.data() };
      })),
    dispose() {
      tree.dispose([params, state, loss]);
      trainStep.dispose();
      evalStep.dispose();
    },
  };
}

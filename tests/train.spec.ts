import { expect, inPage, test } from './support/fixtures.ts';
import { KERNEL_RUNS } from './support/kernel-runs.ts';
import type { RunResult } from '../src/train/result.ts';

type Trained = RunResult & { liveBuffers: number[] };

/** The run says which kernels ran: the choice asked for, a GPU's shapes for gpu, rung 0 alone for plain. */
function expectKernels(r: Trained, kernels: (typeof KERNEL_RUNS)[number]): void {
  expect(r.kernels.choice).toBe(kernels);
  if (kernels === 'gpu') expect(r.kernels.shape).toBe('gpu');
  const rungs = Object.values(r.kernels.rungs).flat();
  expect(rungs.length).toBeGreaterThan(0);
  if (kernels === 'plain') expect(rungs.every((index) => index === 0), JSON.stringify(r.kernels.rungs)).toBe(true);
}

for (const kernels of KERNEL_RUNS) {
  test(`an MLP on 6,000 images reaches ≥ 90% validation accuracy within 3 epochs (kernels ${kernels})`, async ({ gpuPage }) => {
    const r = await inPage<Trained>(gpuPage, 'tests/browser/train.ts', 'trainPreset', 'custom', {
      hidden: [128, 64], activation: 'relu', lr: 0.003, batchSize: 64, epochs: 3, trainLimit: 6000, valFraction: 0.2,
    }, kernels);
    expectKernels(r, kernels);
    expect(r.interrupted).toBeUndefined();
    expect(r.epochs).toHaveLength(3);
    expect(Math.max(...r.epochs.map((e) => e.valAcc!))).toBeGreaterThanOrEqual(0.9);
    expect(r.epochs[2]!.trainLoss).toBeLessThan(r.epochs[0]!.trainLoss);
    expect(r.data).toMatchObject({ train: 4800, val: 1200, test: 10000 });
    expect(r.test.confusion.flat().reduce((a, b) => a + b, 0)).toBe(10000);
    expect(r.test.accuracy).toBeGreaterThan(0.85);
    // Everything is allocated before the first epoch: the live buffer count never grows.
    expect(new Set(r.liveBuffers).size, `live buffers per epoch ${r.liveBuffers}`).toBe(1);
  });
}

test("the study's distribution keeps 10% of digits 0, 4 and 7 and tests on all 10,000 images", async ({ gpuPage }) => {
  // The split is what is checked, not the model: the MLP test's model and batch size, whose pipelines it compiled already.
  const r = await inPage<Trained>(gpuPage, 'tests/browser/train.ts', 'trainPreset', 'custom', {
    hidden: [128, 64], activation: 'relu', batchSize: 64, distribution: 'study', keep: [0.1, 1, 1, 1, 0.1, 1, 1, 0.1, 1, 1], epochs: 1, trainLimit: 6000,
  });
  const pool = r.data.classCounts.train.map((n, d) => n + r.data.classCounts.val[d]!);
  // Digit counts among the first 6,000 training images, counted from the IDX file.
  const full = [592, 671, 581, 608, 623, 514, 608, 651, 551, 601];
  pool.forEach((n, d) => expect(n, `digit ${d}`).toBe([0, 4, 7].includes(d) ? Math.round(full[d]! * 0.1) : full[d]));
  expect(r.data.test).toBe(10000);
  expect(r.data.classCounts.test.reduce((a, b) => a + b, 0)).toBe(10000);
  expect(r.test.perClass.map((c) => c.support)).toEqual(r.data.classCounts.test);
});

test('a last partial batch is trained and weighted by its size', async ({ gpuPage }) => {
  // 80 images, val 0.2 → 64 training images. With a learning rate too small to move the weights, the
  // epoch's loss is the mean over the same 64 images whether they come as 48+16 or as one batch of 64 —
  // unless the short batch were weighted like a full one (then off by a quarter of the two batches'
  // difference). Every batch size is a plan of its own, compiled on first use: these sizes are the ones
  // the MLP test above (the same model, batch 64) compiled already, but for the training steps of 48 and 16.
  const run = (batchSize: number) =>
    inPage<Trained>(gpuPage, 'tests/browser/train.ts', 'trainPreset', 'custom', { batchSize, epochs: 1, trainLimit: 80, lr: 1e-12 });
  const [batched, whole] = [await run(48), await run(64)];
  expect(batched.data.train).toBe(64);
  expect(batched.epochs[0]!.trainLoss).toBeCloseTo(whole.epochs[0]!.trainLoss, 5);
  expect(batched.epochs[0]!.trainAcc).toBe(whole.epochs[0]!.trainAcc);
});

// Not under plain: rung 0's direct convolution takes ~3 minutes for these 3 epochs on SwiftShader. A CNN
// (with batchnorm and dropout) trains under plain in tests/reliability.spec.ts's resume test, bit for bit.
for (const kernels of KERNEL_RUNS.filter((k) => k !== 'plain')) {
  test(`cnn-arch1 on 5,000 images beats 90% validation accuracy within 3 epochs; the result lists the layers and the filters (kernels ${kernels})`, async ({ gpuPage }) => {
    const r = await inPage<Trained>(gpuPage, 'tests/browser/train.ts', 'trainPreset', 'cnn-arch1', {
      trainLimit: 5000, batchSize: 50, epochs: 3, lr: 0.003, patience: 0,
    }, kernels);
    expectKernels(r, kernels);
    expect(r.interrupted).toBeUndefined();
    expect(Math.max(...r.epochs.map((e) => e.valAcc!))).toBeGreaterThan(0.9);
    // conv 1→16 k5 s2 → 16×12×12 (416 params), relu, conv 16→8 k3 → 8×10×10 (1,160), relu, flatten 800, dense 800→10, sigmoid
    expect(r.model.map((l) => [l.kind, l.outputShape, l.params])).toEqual([
      ['conv2d', [16, 12, 12], 416], ['relu', [16, 12, 12], 0], ['conv2d', [8, 10, 10], 1160], ['relu', [8, 10, 10], 0],
      ['flatten', [800], 0], ['dense', [10], 8010], ['sigmoid', [10], 0],
    ]);
    expect(r.filters).toHaveLength(16);
    expect(r.filters![0]).toHaveLength(1);
    expect(r.filters![0]![0]).toHaveLength(5);
    expect(r.filters![0]![0]![0]).toHaveLength(5);
    expect(r.filters!.flat(3).every(Number.isFinite)).toBe(true);
  });
}

// The study's architectures as it trained them (batch 1000, sigmoid output), one epoch of two full batches:
// 2,500 images, 500 of them held out. Every batch size is a plan of its own, compiled on first use, so a
// short last batch would compile the whole step again.
for (const preset of ['cnn-arch1', 'cnn-arch2', 'cnn-arch3', 'cnn-arch4', 'task2-best']) {
  test(`${preset} trains one epoch of two batches of 1,000 images without error`, async ({ gpuPage }) => {
    const r = await inPage<Trained>(gpuPage, 'tests/browser/train.ts', 'trainPreset', preset, { trainLimit: 2500, epochs: 1 });
    expect(r.data.train).toBe(2000);
    expect(r.interrupted).toBeUndefined();
    expect(r.epochs).toHaveLength(1);
    expect(Number.isFinite(r.epochs[0]!.trainLoss)).toBe(true);
    expect(r.test.confusion.flat().reduce((a, b) => a + b, 0)).toBe(10000);
  });
}

import * as ref from '../../src/reference/loss.ts';
import type { Gpu } from '../../src/gpu/gpu.ts';
import { createTotals, readTotals, softmaxCrossEntropy } from '../../src/engine/loss.ts';
import { Rng } from '../../src/data/random.ts';
import { compare, empty, randomArray, readF32, readU32, run, stepUniform, storage, testGpu, type Closeness } from './util.ts';

/**
 * Logits in [-4, 4) with rows that stress the kernel: every 7th row scaled ×30 (exp would overflow
 * f32 without the max subtracted), row 0 all equal and row 1 with two equal maxima (first one wins).
 */
function batch(rows: number, classes: number, seed: number): { logits: Float32Array; labels: Uint32Array } {
  const logits = randomArray(rows * classes, seed, -4, 4);
  for (let r = 0; r < rows; r += 7) for (let j = 0; j < classes; j++) logits[r * classes + j]! *= 30;
  logits.fill(0.5, 0, classes);
  if (rows > 1) {
    logits[classes + 3] = 9;
    logits[classes + classes - 1] = 9;
  }
  const rng = new Rng(seed + 100);
  const labels = Uint32Array.from({ length: rows }, () => rng.int(classes));
  if (rows > 1) labels[1] = classes - 1;  // the second maximum: not correct
  return { logits, labels };
}

/** Per-row loss terms are O(1..100) with a few-ulp error each; their f32 sum drifts by ~rows·ε relative. */
function totalsTolerance(rows: number): { atol: number; rtol: number } {
  return { atol: 1e-5 * Math.sqrt(rows), rtol: 1e-5 + rows * 2 ** -24 };
}

/** The train and eval checks below, with the kernel shaped for a CPU adapter or a GPU (`--kernels cpu` or `gpu`). */
export async function lossTrainVsReference(rowsA: number, rowsB: number, classes: number, kernels: 'cpu' | 'gpu'): Promise<Closeness[]> {
  return trainChecks((await testGpu()).withTarget(kernels), rowsA, rowsB, classes);
}
export async function lossEvalVsReference(rowsA: number, rowsB: number, classes: number, kernels: 'cpu' | 'gpu'): Promise<Closeness[]> {
  return evalChecks((await testGpu()).withTarget(kernels), rowsA, rowsB, classes);
}

/** Two train batches (sizes a and b) added into one totals buffer; each batch's dLogits. */
async function trainChecks(gpu: Gpu, rowsA: number, rowsB: number, classes: number): Promise<Closeness[]> {
  const A = batch(rowsA, classes, 1);
  const B = batch(rowsB, classes, 2);
  const totals = createTotals(gpu);
  const buf = {
    logitsA: storage(gpu, 'logitsA', A.logits), labelsA: storage(gpu, 'labelsA', A.labels), dLogitsA: empty(gpu, 'dLogitsA', rowsA * classes),
    logitsB: storage(gpu, 'logitsB', B.logits), labelsB: storage(gpu, 'labelsB', B.labels), dLogitsB: empty(gpu, 'dLogitsB', rowsB * classes),
  };
  await run(gpu, [
    softmaxCrossEntropy(gpu, { mode: 'train', logits: buf.logitsA, labels: buf.labelsA, dLogits: buf.dLogitsA, totals, rows: rowsA, classes }),
    softmaxCrossEntropy(gpu, { mode: 'train', logits: buf.logitsB, labels: buf.labelsB, dLogits: buf.dLogitsB, totals, rows: rowsB, classes }),
  ]);
  const refA = ref.softmaxCrossEntropy(A.logits, A.labels, rowsA, classes);
  const refB = ref.softmaxCrossEntropy(B.logits, B.labels, rowsB, classes);
  const got = await readTotals(gpu, totals);
  const { atol, rtol } = totalsTolerance(rowsA + rowsB);
  // dLogits = (p − onehot)/rows: |p| ≤ 1 with a few-ulp error, so atol scales with 1/rows.
  const results = [
    compare('lossSum', [got.lossSum], [refA.lossSum + refB.lossSum], atol, rtol),
    compare('correct', [got.correct], [refA.correct + refB.correct], 0, 0),
    compare('dLogitsA', await readF32(gpu, buf.dLogitsA), refA.dLogits, 1e-6 / rowsA),
    compare('dLogitsB', await readF32(gpu, buf.dLogitsB), refB.dLogits, 1e-6 / rowsB),
  ];
  for (const buffer of [totals, ...Object.values(buf)]) gpu.buffers.release(buffer);
  return results;
}

/**
 * Eval over two batches (rows a, then b at batchStart a) into one probs buffer, one confusion matrix
 * and one totals buffer. Rows of probs past a + b must stay untouched (sentinel −1).
 */
async function evalChecks(gpu: Gpu, rowsA: number, rowsB: number, classes: number): Promise<Closeness[]> {
  const all = batch(rowsA + rowsB, classes, 3);
  const spare = 5;
  const totals = createTotals(gpu);
  const buf = {
    logitsA: storage(gpu, 'logitsA', all.logits.subarray(0, rowsA * classes)), labelsA: storage(gpu, 'labelsA', all.labels.subarray(0, rowsA)),
    logitsB: storage(gpu, 'logitsB', all.logits.subarray(rowsA * classes)), labelsB: storage(gpu, 'labelsB', all.labels.subarray(rowsA)),
    probs: storage(gpu, 'probs', new Float32Array((rowsA + rowsB + spare) * classes).fill(-1)),
    confusion: empty(gpu, 'confusion', classes * classes),
    stepA: stepUniform(gpu, { batchStart: 0, t: 1, seed: 0, lr: 0 }),
    stepB: stepUniform(gpu, { batchStart: rowsA, t: 1, seed: 0, lr: 0 }),
  };
  const common = { mode: 'eval', probs: buf.probs, confusion: buf.confusion, totals, classes } as const;
  await run(gpu, [
    softmaxCrossEntropy(gpu, { ...common, logits: buf.logitsA, labels: buf.labelsA, step: buf.stepA, rows: rowsA }),
    softmaxCrossEntropy(gpu, { ...common, logits: buf.logitsB, labels: buf.labelsB, step: buf.stepB, rows: rowsB }),
  ]);
  const expected = ref.softmaxCrossEntropy(all.logits, all.labels, rowsA + rowsB, classes);
  const expectedProbs = [...expected.probs, ...new Array<number>(spare * classes).fill(-1)];
  const got = await readTotals(gpu, totals);
  const { atol, rtol } = totalsTolerance(rowsA + rowsB);
  const results = [
    compare('lossSum', [got.lossSum], [expected.lossSum], atol, rtol),
    compare('correct', [got.correct], [expected.correct], 0, 0),
    compare('probs', await readF32(gpu, buf.probs), expectedProbs),
    compare('confusion', await readU32(gpu, buf.confusion), expected.confusion, 0, 0),
  ];
  for (const buffer of [totals, ...Object.values(buf)]) gpu.buffers.release(buffer);
  return results;
}

/**
 * GPU dLogits against central differences of the float64 reference's mean loss. In float64, h = 1e-5
 * leaves truncation (h²) and rounding (1e-16/h) below 1e-10, so the tolerance is the GPU's f32 one:
 * atol 1e-6/rows as above, rtol 1e-3.
 */
export async function lossFiniteDifference(rows: number, classes: number): Promise<Closeness> {
  const gpu = await testGpu();
  const { logits, labels } = batch(rows, classes, 4);
  const buf = { logits: storage(gpu, 'logits', logits), labels: storage(gpu, 'labels', labels), dLogits: empty(gpu, 'dLogits', rows * classes) };
  const totals = createTotals(gpu);
  await run(gpu, [softmaxCrossEntropy(gpu, { mode: 'train', ...buf, totals, rows, classes })]);
  const h = 1e-5;
  const meanLoss = (values: Float64Array) => ref.softmaxCrossEntropy(values, labels, rows, classes).lossSum / rows;
  const numeric = Float64Array.from(logits, (v, i) => {
    const shifted = Float64Array.from(logits);
    shifted[i] = v + h;
    const plus = meanLoss(shifted);
    shifted[i] = v - h;
    return (plus - meanLoss(shifted)) / (2 * h);
  });
  const result = compare('dLogits vs central differences', await readF32(gpu, buf.dLogits), numeric, 1e-6 / rows);
  for (const buffer of [totals, ...Object.values(buf)]) gpu.buffers.release(buffer);
  return result;
}

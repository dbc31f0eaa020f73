import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

// Batches smaller and larger than the single workgroup (64 invocations shaped for a CPU adapter, 256 for a
// GPU), and a single row.
const batches: Array<[rowsA: number, rowsB: number]> = [[1, 3], [100, 37], [300, 513]];

for (const kernels of ['cpu', 'gpu'] as const) {
  const shape = kernels === 'cpu' ? 'CPU-shaped' : 'GPU-shaped';
  for (const [rowsA, rowsB] of batches) {
    test(`softmax cross-entropy train (${shape}), batches of ${rowsA} then ${rowsB}: totals add up, dLogits match the float64 reference`, async ({ gpuPage }) => {
      const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/loss.ts', 'lossTrainVsReference', rowsA, rowsB, 10, kernels);
      for (const r of results) expect(r.ok, r.message).toBe(true);
    });

    test(`softmax cross-entropy eval (${shape}), batches of ${rowsA} then ${rowsB}: probs at batchStart, confusion, totals`, async ({ gpuPage }) => {
      const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/loss.ts', 'lossEvalVsReference', rowsA, rowsB, 10, kernels);
      for (const r of results) expect(r.ok, r.message).toBe(true);
    });
  }
}

test('softmax cross-entropy dLogits match central differences of the mean loss', async ({ gpuPage }) => {
  const r = await inPage<Closeness>(gpuPage, 'tests/browser/loss.ts', 'lossFiniteDifference', 9, 10);
  expect(r.ok, r.message).toBe(true);
});

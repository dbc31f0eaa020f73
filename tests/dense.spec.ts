import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

// Sizes that are and are not multiples of the 32×32×16 tile, including the MNIST ones.
const shapes: Array<[rows: number, inF: number, outF: number]> = [
  [64, 784, 128], [33, 10, 1], [1, 1, 1], [7, 33, 65], [100, 128, 64], [1000, 64, 10],
];

for (const [rows, inF, outF] of shapes) {
  test(`dense ${rows}×${inF} → ${outF}: forward, dx, dW, db match the float64 reference`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/dense.ts', 'denseVsReference', rows, inF, outF);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

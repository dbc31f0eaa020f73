import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

// 13 pixels: images straddle u32 words at every byte lane; 784: MNIST's 28×28.
const cases: Array<[samples: number, pixels: number, rows: number, batchStart: number]> = [
  [50, 13, 20, 17], [50, 13, 1, 49], [300, 784, 64, 200],
];

for (const [samples, pixels, rows, batchStart] of cases) {
  test(`gather ${rows} of ${samples} samples × ${pixels} pixels from batchStart ${batchStart} of a shuffled order`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/gather.ts', 'gatherVsExpected', samples, pixels, rows, batchStart);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

// As bytes (rows of whole words only): MNIST's 784 pixels and a 4-pixel image.
for (const [samples, pixels, rows, batchStart] of [[300, 784, 64, 200], [50, 4, 20, 17]] as const) {
  test(`gather ${rows} of ${samples} samples × ${pixels} pixels as bytes from batchStart ${batchStart}`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/gather.ts', 'gatherBytesVsExpected', samples, pixels, rows, batchStart);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

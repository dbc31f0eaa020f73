import { test as node } from '@playwright/test';
import { ShapeError } from '../src/errors.ts';
import { batchnorm } from '../src/layers/batchnorm.ts';
import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

const module = 'tests/browser/batchnorm.ts';

// [per-sample shape, rows]: BatchNorm2d on odd and MNIST-like sizes, BatchNorm1d on features.
const cases: Array<[number[], number]> = [
  [[3, 5, 5], 4],
  [[8, 10, 10], 3],
  [[16, 7, 7], 2],
  [[10], 8],
  [[128], 33],
];

for (const [shape, rows] of cases) {
  const name = `batchnorm${shape.length === 3 ? '2d' : '1d'} ${rows}×${shape.join('×')}`;
  test(`${name} train: y, running statistics, dγ, dβ, dx match the float64 reference`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, module, 'batchnormTrainVsReference', shape, rows, true);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

test('batchnorm as a first layer (no dx): dγ and dβ still match', async ({ gpuPage }) => {
  const results = await inPage<Closeness[]>(gpuPage, module, 'batchnormTrainVsReference', [4, 6, 6], 3, false);
  for (const r of results) expect(r.ok, r.message).toBe(true);
});

for (const [shape, rows] of [[[3, 4, 4], 5], [[12], 6]] as Array<[number[], number]>) {
  test(`batchnorm ${rows}×${shape.join('×')}: running statistics after 4 steps match PyTorch's update; eval uses them`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, module, 'batchnormRunningStats', shape, rows, 4);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
  test(`batchnorm ${rows}×${shape.join('×')}: backward matches central finite differences`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, module, 'batchnormGradCheck', shape, rows);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

node('batchnorm accepts [features] and [C, H, W], names the layer for anything else', () => {
  expect(batchnorm().outputShape([16, 12, 12], 0)).toEqual([16, 12, 12]);
  expect(batchnorm().outputShape([128], 0)).toEqual([128]);
  expect(() => batchnorm().outputShape([4, 7], 3)).toThrow(ShapeError);
  expect(() => batchnorm().outputShape([4, 7], 3)).toThrow(/batchnorm #3: .* 4×7 \(rank 2\)/);
});

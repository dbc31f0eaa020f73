import { test as node } from '@playwright/test';
import { ConfigError } from '../src/errors.ts';
import { dropout } from '../src/layers/dropout.ts';
import { flatten } from '../src/layers/flatten.ts';
import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

const module = 'tests/browser/dropout.ts';

for (const rate of [0.25, 0.5]) {
  test(`dropout(${rate}) keeps ${1 - rate} of 2²⁰ values (within 1%), each scaled by 1/(1 − p)`, async ({ gpuPage }) => {
    const { kept, scaledExactly } = await inPage<{ kept: number; scaledExactly: boolean }>(gpuPage, module, 'dropoutKeptFraction', rate, 1024, 1024, 7);
    // The standard error over 2²⁰ draws is √(p(1−p)/n) ≈ 5e-4: 1% of 1 − p is ≥ 10 of them.
    expect(Math.abs(kept - (1 - rate)), `kept ${kept}`).toBeLessThan(0.01 * (1 - rate));
    expect(scaledExactly).toBe(true);
  });
}

test('dropout masks: same seed → same mask, another step seed or layer → another mask; equal to the reference', async ({ gpuPage }) => {
  const m = await inPage<{ same: number; otherSeed: number; otherLayer: number; matchesReference: boolean }>(gpuPage, module, 'dropoutMasks', 0.5, 1 << 16);
  expect(m.same).toBe(1);
  expect(m.matchesReference).toBe(true);
  // Independent masks at p = 0.5 agree on half the values (±0.4% at 2¹⁶ values, 1σ ≈ 0.2%).
  expect(Math.abs(m.otherSeed - 0.5)).toBeLessThan(0.01);
  expect(Math.abs(m.otherLayer - 0.5)).toBeLessThan(0.01);
});

for (const [rate, rows, features] of [[0.25, 7, 33], [0.5, 64, 128]] as const) {
  test(`dropout(${rate}) ${rows}×${features}: forward and backward apply the same mask and scale`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, module, 'dropoutVsReference', rate, rows, features, 42, 2);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

test('dropout eval mode is the identity and records no backward', async ({ gpuPage }) => {
  const result = await inPage<{ identical: boolean; backward: number }>(gpuPage, module, 'dropoutEval', 0.5, 9, 50);
  expect(result).toEqual({ identical: true, backward: 0 });
});

node('dropout rate must be in [0, 1); dropout(0) is a view', () => {
  for (const rate of [1, 1.5, -0.1, Number.NaN]) {
    expect(() => dropout(rate)).toThrow(ConfigError);
    expect(() => dropout(rate)).toThrow(/dropout rate/);
  }
  expect(() => dropout(1.5)).toThrow('dropout rate 1.5 is not allowed: a number in [0, 1)');
  expect(dropout(0).isView).toBe(true);
  expect(dropout(0.5).isView).toBe(false);
  expect(dropout(0.5).outputShape([16, 12, 12], 0)).toEqual([16, 12, 12]);
  expect(dropout(0.5).params([10])).toEqual([]);
});

node('flatten is a view: [C, H, W] → [C·H·W]', () => {
  const layer = flatten();
  expect(layer.isView).toBe(true);
  expect(layer.outputShape([8, 10, 10], 3)).toEqual([800]);
  expect(layer.outputShape([784], 0)).toEqual([784]);
  expect(layer.params([8, 10, 10])).toEqual([]);
});

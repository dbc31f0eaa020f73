import { expect, inPage, test } from './support/fixtures.ts';

// gpu.target is fixed when the device is made; gpu.withTarget gives views that share everything else.
test('a view from gpu.withTarget shares the device, buffers, errors and pipelines, with its own target', async ({ gpuPage }) => {
  const r = await inPage<{
    shared: boolean[]; samePipeline: boolean; frozen: boolean;
    device: { choice: string; shape: string; subgroups: boolean; ceiling: object };
    view: { choice: string; shape: string; subgroups: boolean; ceiling: object };
    facts: { fallback: boolean; subgroups: boolean; quadsAligned: boolean; cores: number };
  }>(gpuPage, 'tests/browser/target.ts', 'viewOfTestGpu');
  expect(r.shared).toEqual([true, true, true, true, true]);
  expect(r.samePipeline).toBe(true);
  expect(r.frozen).toBe(true);
  // SwiftShader: a fallback adapter with subgroups whose quads the probe finds aligned.
  expect(r.facts).toMatchObject({ fallback: true, subgroups: true, quadsAligned: true });
  expect(r.facts.cores).toBeGreaterThanOrEqual(1);
  expect(r.device).toEqual({ choice: 'auto', shape: 'cpu', subgroups: true, ceiling: {} });
  // plain caps every op at rung 0 (a ceiling asked for on top changes nothing) and turns subgroups off.
  expect(r.view).toEqual({ choice: 'plain', shape: 'cpu', subgroups: false, ceiling: { dense: 0, conv2d: 0 } });
});

test('Gpu.create({ kernels, rungCeiling }) fixes the target it asks for', async ({ gpuPage }) => {
  expect(await inPage(gpuPage, 'tests/browser/target.ts', 'createdWith')).toEqual({ choice: 'gpu', shape: 'gpu', ceiling: { dense: 2 } });
});

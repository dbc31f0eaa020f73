import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

// PyTorch's defaults plus a non-default alpha for each kind that has one; 1000 is not a multiple of 256.
const kinds: Array<[kind: string, alpha: number]> = [
  ['sigmoid', 0], ['relu', 0], ['leaky_relu', 0.01], ['leaky_relu', 0.2], ['elu', 1], ['elu', 0.5],
];

for (const [kind, alpha] of kinds) {
  test(`${kind}(${alpha}) 1000 values: forward and backward match the float64 reference`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/activation.ts', 'activationVsReference', kind, alpha, 1000);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });

  test(`${kind}(${alpha}): backward matches central differences of the forward`, async ({ gpuPage }) => {
    const r = await inPage<Closeness>(gpuPage, 'tests/browser/activation.ts', 'activationFiniteDifference', kind, alpha, 1000);
    expect(r.ok, r.message).toBe(true);
  });
}

test('an activation over 16.8M elements (a grid-stride loop over at most 256 workgroups) covers every element', async ({ gpuPage }) => {
  const r = await inPage<Closeness>(gpuPage, 'tests/browser/activation.ts', 'activationFoldedGrid');
  expect(r.ok, r.message).toBe(true);
});

for (const kind of ['sigmoid', 'relu', 'leaky_relu', 'elu']) {
  test(`${kind} layer: plan runs forward over rows × shape; backward only when training with a dInput`, async ({ gpuPage }) => {
    const { results, backward, describe } = await inPage<{ results: Closeness[]; backward: Record<string, number>; describe: string }>(
      gpuPage, 'tests/browser/activation.ts', 'activationLayerPlan', kind,
    );
    for (const r of results) expect(r.ok, r.message).toBe(true);
    expect(backward).toEqual({ train: 1, eval: 0, firstLayer: 0 });
    expect(describe).toBe({ sigmoid: 'sigmoid', relu: 'relu', leaky_relu: 'leaky_relu(0.01)', elu: 'elu(1)' }[kind]);
  });
}

test('activation alpha out of range throws a ConfigError naming the field, value and range', async ({ gpuPage }) => {
  const messages = await inPage<string[]>(gpuPage, 'tests/browser/activation.ts', 'activationConfigErrors', [
    ['elu', 0], ['elu', -1], ['leaky_relu', -0.1], ['relu', Infinity], ['leaky_relu', 0], ['elu', 2],
  ]);
  expect(messages).toEqual([
    'ConfigError: elu alpha 0 is not allowed: a finite number > 0',
    'ConfigError: elu alpha -1 is not allowed: a finite number > 0',
    'ConfigError: leaky_relu alpha -0.1 is not allowed: a finite number ≥ 0',
    'ConfigError: relu alpha Infinity is not allowed: a finite number',
    '',
    '',
  ]);
});

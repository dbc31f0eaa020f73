import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

const lrs = [0.1, 0.1, 0.05, 0.05, 0.01];
const from = (t0: number) => lrs.map((lr, k) => ({ t: t0 + k, lr }));

// t from 1 covers Adam's early, strongly corrected steps; t 498–502 crosses the shader's switch from
// the expm1 series to exp for β2 = 0.999 (t·ln β2 = −0.5 at t ≈ 500).
const cases: Array<[name: string, spec: object, steps: Array<{ t: number; lr: number }>]> = [
  ['adam defaults', { kind: 'adam' }, from(1)],
  ['adam weight decay 0.01', { kind: 'adam', weightDecay: 0.01 }, from(1)],
  ['adam β 0.8/0.99, ε 1e-6, weight decay 0.1', { kind: 'adam', beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 }, from(1)],
  ['adam at t 498–502', { kind: 'adam' }, from(498)],
  ['sgd', { kind: 'sgd' }, from(1)],
  ['sgd weight decay 0.1', { kind: 'sgd', weightDecay: 0.1 }, from(1)],
  ['sgd momentum 0.9', { kind: 'sgd', momentum: 0.9 }, from(1)],
  ['sgd momentum 0.9, weight decay 0.05', { kind: 'sgd', momentum: 0.9, weightDecay: 0.05 }, from(1)],
];

for (const [name, spec, steps] of cases) {
  test(`${name}: 5 steps over 1037 params match the float64 PyTorch reference`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/optimizer.ts', 'optimizerVsReference', spec, 1037, steps);
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

test('optimizer rejects out-of-range settings and a wrong number of moment buffers', async ({ gpuPage }) => {
  const messages = await inPage<string[]>(gpuPage, 'tests/browser/optimizer.ts', 'optimizerErrors', [
    { spec: { kind: 'adam', beta2: 1 }, moments: 2 },
    { spec: { kind: 'sgd', momentum: -0.5 }, moments: 1 },
    { spec: { kind: 'sgd', weightDecay: -1 }, moments: 0 },
    { spec: { kind: 'adam' }, moments: 1 },
  ]);
  expect(messages).toEqual([
    'ConfigError: beta2 1 is not allowed: a number in [0, 1)',
    'ConfigError: momentum -0.5 is not allowed: a finite number ≥ 0',
    'ConfigError: weightDecay -1 is not allowed: a finite number ≥ 0',
    'Error: adam needs 2 moment buffers, got 1',
  ]);
});

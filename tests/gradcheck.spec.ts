import type { LayerSpec } from '../src/train/config.ts';
import { expect, inPage, test, type Closeness } from './support/fixtures.ts';

const mlp = (kind: string): LayerSpec[] => [
  { type: 'flatten' },
  { type: 'dense', out: 7 },
  { type: 'activation', kind } as LayerSpec,
  { type: 'dense', out: 5 },
  { type: 'activation', kind } as LayerSpec,
  { type: 'dense', out: 4 },
];

// ReLU's kink: a difference step that carries a pre-activation across zero measures half a slope,
// so the piecewise-linear activations get a smaller step (and the f32 noise that comes with it).
const steps: Record<string, number> = { sigmoid: 1e-2, elu: 1e-2, relu: 2e-3, leaky_relu: 2e-3 };

for (const kind of Object.keys(steps)) {
  test(`finite differences agree with backward through an MLP with ${kind}`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/gradcheck.ts', 'gradCheck', mlp(kind), [1, 3, 3], 5, 11, steps[kind]);
    expect(results.length).toBe(7); // 3 weights, 3 biases, the input
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

import type { LayerSpec } from '../src/graph/spec.ts';
import { expect, inPage, test, type Closeness } from './support/fixtures.ts';
import { KERNEL_RUNS } from './support/kernel-runs.ts';

const mlp = (kind: string, hidden: readonly [number, number]): LayerSpec[] => [
  { type: 'flatten' },
  { type: 'dense', out: hidden[0] },
  { type: 'activation', kind } as LayerSpec,
  { type: 'dense', out: hidden[1] },
  { type: 'activation', kind } as LayerSpec,
  { type: 'dense', out: 4 },
];

// ReLU's kink: a difference step that carries a pre-activation across zero measures half a slope,
// so the piecewise-linear activations get a smaller step (and the f32 noise that comes with it).
const steps: Record<string, number> = { sigmoid: 1e-2, elu: 1e-2, relu: 2e-3, leaky_relu: 2e-3 };

// Input [1, 3, 3]: 9, 7 and 5 inputs take the tiled matmul and separate activation kernels; input
// [1, 4, 4] with 8 hidden units takes the register-blocked kernels with the activations fused into them.
for (const kind of Object.keys(steps)) {
  for (const [input, hidden, path] of [[[1, 3, 3], [7, 5], 'tiled'], [[1, 4, 4], [8, 8], 'blocked, fused']] as const) {
    test(`finite differences agree with backward through an MLP with ${kind} (${path})`, async ({ gpuPage }) => {
      const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/gradcheck.ts', 'gradCheck', mlp(kind, hidden), input, 5, 11, steps[kind]);
      expect(results.length).toBe(7); // 3 weights, 3 biases, the input
      for (const r of results) expect(r.ok, r.message).toBe(true);
    });
  }
}

// Fusion (src/graph/sequential.ts): every place an activation can sit next to a dense or conv2d layer.
const fusable = (kind: string, alpha?: number): LayerSpec[] => {
  const act = { type: 'activation', kind, alpha } as LayerSpec;
  return [
    { type: 'conv2d', out: 4, kernel: 3 }, act, // conv applies f; the next conv applies f'
    { type: 'conv2d', out: 4, kernel: 3 }, act, // conv applies f; the dense past flatten applies f'
    { type: 'flatten' },
    { type: 'dense', out: 8 }, act, // dense applies f; f' runs on its own before dropout
    { type: 'dropout', rate: 0.3 },
    { type: 'dense', out: 8 }, act, // dense applies f; the next dense applies f'
    { type: 'dense', out: 4 }, act, // the output activation: f fused, f' on its own (the loss's gradient)
  ];
};

for (const [kind, alpha] of [['sigmoid'], ['relu'], ['leaky_relu', 0.1], ['elu', 0.7]] as const) {
  test(`fused activations (${kind}) give what separate activation kernels give, in 8 dispatches fewer`, async ({ gpuPage }) => {
    const { results, dispatches } = await inPage<{ results: Closeness[]; dispatches: { fused: number; unfused: number } }>(
      gpuPage, 'tests/browser/gradcheck.ts', 'fusedMatchesUnfused', fusable(kind, alpha), [1, 8, 8], 6, 3,
    );
    for (const r of results) expect(r.ok, r.message).toBe(true);
    // 5 activations: each forward is fused; the backwards of the 3 followed by a conv2d or dense too.
    expect(dispatches.unfused - dispatches.fused).toBe(8);
  });
}

test('a model reading its input batch as bytes trains as it does on byte / 255 in f32', async ({ gpuPage }) => {
  const layers: LayerSpec[] = [{ type: 'flatten' }, { type: 'dense', out: 12 }, { type: 'activation', kind: 'relu' }, { type: 'dense', out: 4 }];
  const { results, granted } = await inPage<{ results: Closeness[]; granted: Record<string, boolean> }>(
    gpuPage, 'tests/browser/gradcheck.ts', 'bytesMatchFloats', layers, [1, 4, 8], 6, 3,
  );
  for (const r of results) expect(r.ok, r.message).toBe(true);
  expect(granted).toEqual({ bytes: true, floats: false, convFirst: false, withInputGradient: false });
});

// The whole chain through Sequential under each kernel choice: conv2d → batchnorm → elu → dropout → conv2d,
// then a dense layer of 128 inputs with its elu fused, whose forward the GPU shapes split into slices
// (reduce_splits applying the bias and the activation), and the output layer.
const cnn: LayerSpec[] = [
  { type: 'conv2d', out: 3, kernel: 3, stride: 2, padding: 1 }, { type: 'batchnorm' }, { type: 'activation', kind: 'elu' },
  { type: 'dropout', rate: 0.25 }, { type: 'conv2d', out: 8, kernel: 2 }, { type: 'flatten' },
  { type: 'dense', out: 6 }, { type: 'activation', kind: 'elu' }, { type: 'dense', out: 4 },
];

for (const kernels of KERNEL_RUNS) {
  test(`finite differences agree with backward through a CNN with batchnorm and dropout (kernels ${kernels})`, async ({ gpuPage }) => {
    const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/gradcheck.ts', 'gradCheck', cnn, [2, 10, 10], 5, 3, 1e-2, 24, kernels);
    expect(results.length).toBe(11); // 2 conv weights and biases, γ and β, 2 dense weights and biases, the input
    for (const r of results) expect(r.ok, r.message).toBe(true);
  });
}

test('under the GPU shapes that CNN splits its 128-input dense forward and the split applies the fused elu', async ({ gpuPage }) => {
  type Run = { label: string; entry: string; rung: number | null; defines: Record<string, unknown> };
  const forward = await inPage<Run[]>(gpuPage, 'tests/browser/gradcheck.ts', 'forwardKernels', cnn, [2, 10, 10], 5, 'gpu');
  const reduce = forward.filter((d) => d.label === 'dense.reduce_splits');
  expect(reduce, JSON.stringify(forward.map((d) => d.label))).toHaveLength(1);
  expect(reduce[0]!.defines).toMatchObject({ FORWARD_SPLIT: true, ELU: true });
  expect(Number(reduce[0]!.defines.SPLITS)).toBeGreaterThan(1);
});

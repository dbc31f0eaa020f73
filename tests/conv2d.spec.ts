import { test as node } from '@playwright/test';
import { Rng } from '../src/data/random.ts';
import { ConfigError, ShapeError } from '../src/errors.ts';
import { conv2d, type ConvSizes } from '../src/layers/conv2d.ts';
import { gemmFitsData, gemmFitsForward } from '../src/layers/conv2d-policy.ts';
import { expect, inPage, test, type Closeness } from './support/fixtures.ts';
import type { ConvKernels, RungsRan } from './browser/conv2d.ts';

// No preset has it: 3 channels, a non-square 11×9 input, an even kernel, stride 2 with padding, 5 outputs.
const unusual: ConvSizes = { rows: 3, inChannels: 3, height: 11, width: 9, outChannels: 5, kernel: 4, stride: 2, padding: 1 };

// Rung 4's backward-data (16n input channels, stride 1) on a padded, non-square shape with an odd output
// channel count (dy packed to 8 channels) that no preset has.
const packedData: ConvSizes = { rows: 2, inChannels: 16, height: 7, width: 5, outChannels: 5, kernel: 3, stride: 1, padding: 1 };

// Rung 4's forward (unpadded) on a non-square shape with 3 input channels (27 taps, 4 a step, the last step 3/4
// full) and 5 output channels (the 8-channel block) that no preset has. Its 9×7 outputs a sample are not whole
// vec4s, so y is stored one value at a time.
const packedForward: ConvSizes = { rows: 3, inChannels: 3, height: 11, width: 9, outChannels: 5, kernel: 3, stride: 1, padding: 0 };
// And one input channel with k3: 9 taps padded to 12, the last step 1/4 full, at the policy's limit; 5×4 outputs
// a sample, stored a vec4 (4 positions of a channel) at a time.
const packedTaps9: ConvSizes = { rows: 2, inChannels: 1, height: 7, width: 6, outChannels: 16, kernel: 3, stride: 1, padding: 0 };
// cnn-arch1's second convolution: on CPU shapes rung 4's backward-data, 12×12 inputs a sample stored a vec4 at a time.
const mnistConv2: ConvSizes = { rows: 3, inChannels: 16, height: 12, width: 12, outChannels: 8, kernel: 3, stride: 1, padding: 0 };

// Stride 1 and 2, padding 0 and 1, odd sizes, channels 1/3/5/8/16, kernels 1…5, and the MNIST layers.
const cases: ConvSizes[] = [
  { rows: 2, inChannels: 1, height: 28, width: 28, outChannels: 16, kernel: 5, stride: 2, padding: 0 },
  mnistConv2,
  { rows: 2, inChannels: 3, height: 7, width: 5, outChannels: 8, kernel: 3, stride: 1, padding: 1 },
  { rows: 5, inChannels: 3, height: 9, width: 9, outChannels: 1, kernel: 3, stride: 2, padding: 1 },
  { rows: 4, inChannels: 8, height: 6, width: 6, outChannels: 3, kernel: 1, stride: 1, padding: 0 },
  { rows: 2, inChannels: 1, height: 5, width: 5, outChannels: 16, kernel: 5, stride: 1, padding: 2 },
  { rows: 3, inChannels: 8, height: 11, width: 11, outChannels: 16, kernel: 4, stride: 3, padding: 1 },
  { rows: 2, inChannels: 16, height: 8, width: 8, outChannels: 16, kernel: 2, stride: 2, padding: 0 },
  unusual,
  packedData,
  packedForward,
  packedTaps9,
  // Enough positions (121 images × 144) for the bias gradient to split the batch: 61 + 60 images per channel.
  { rows: 121, inChannels: 1, height: 28, width: 28, outChannels: 2, kernel: 5, stride: 2, padding: 0 },
];

// Every rung of conv2d's ladder, forced through gpu.withTarget: SwiftShader's own shapes (cpu) and a GPU's
// (gpu) at the top rung, the cpu shapes capped at rung 3 (below the packed GEMM), each capped at rung 2 (register blocks without subgroups) and at rung 1 (split
// sums, rung 0 for the rest), and plain (rung 0 everywhere).
const variants: Array<[string, ConvKernels]> = [
  ['cpu', { kernels: 'cpu' }], ['gpu', { kernels: 'gpu' }], ['plain', { kernels: 'plain' }], ['cpu rung ≤ 3', { kernels: 'cpu', ceiling: 3 }],
  ['cpu rung ≤ 2', { kernels: 'cpu', ceiling: 2 }], ['gpu rung ≤ 2', { kernels: 'gpu', ceiling: 2 }],
  ['cpu rung ≤ 1', { kernels: 'cpu', ceiling: 1 }], ['gpu rung ≤ 1', { kernels: 'gpu', ceiling: 1 }],
];
const title = (g: ConvSizes, variant: string) =>
  `conv2d ${g.rows}×${g.inChannels}×${g.height}×${g.width} → ${g.outChannels} k${g.kernel} s${g.stride} p${g.padding}, ${variant}`;

/** The rung each product must have run at under `k`: the best that has a kernel for it, within the cap. */
function expectRungs(g: ConvSizes, rungs: RungsRan, k: ConvKernels, subgroups: boolean): void {
  const cap = k.kernels === 'plain' ? 0 : (k.ceiling ?? Infinity);
  const blocks = Math.min(cap, subgroups ? 3 : 2);
  // Rung 4 (packed GEMM), on a CPU's shapes: backward-data at stride 1 with padding below the kernel, 16n input
  // channels; forward without padding, its taps padded to whole vec4s by at most 1/3.
  const gemm = k.kernels === 'cpu' && cap >= 4;
  const gemmData = gemm && gemmFitsData(g);
  const gemmForward = gemm && gemmFitsForward(g);
  expect(rungs['conv2d.forward']).toBe(gemmForward ? 4 : cap >= 2 ? blocks : 0);
  expect(rungs['conv2d.backward_data']).toBe(gemmData ? 4 : cap >= 2 ? blocks : 0);
  expect(rungs['conv2d.backward_filter']).toBe(cap >= 2 ? blocks : Math.min(cap, 1));
  if (cap === 0) expect(rungs['conv2d.bias_grad']).toBe(0);
  else expect(rungs['conv2d.bias_partials']).toBe(1);
  for (const [label, rung] of Object.entries(rungs)) if (label.includes('reduce')) expect(rung, label).toBe(1);
}

for (const [variant, k] of variants) {
  for (const g of cases) {
    test(`${title(g, variant)}: forward, dx, dW, db match the float64 reference`, async ({ gpuPage }) => {
      const { results, rungs, subgroups } = await inPage<{ results: Closeness[]; rungs: RungsRan; subgroups: boolean }>(
        gpuPage, 'tests/browser/conv2d.ts', 'conv2dVsReference', g, k,
      );
      for (const r of results) expect(r.ok, r.message).toBe(true);
      expectRungs(g, rungs, k, subgroups);
    });
  }
}

// The activations fused into forward's and backward-data's stores, at every rung, on shapes no preset has.
for (const [variant, k] of variants) {
  for (const [g, kind] of [
    [unusual, 'elu'], [unusual, 'sigmoid'], [packedData, 'elu'], [mnistConv2, 'sigmoid'], [packedForward, 'sigmoid'], [packedForward, 'leaky_relu'], [packedTaps9, 'relu'],
  ] as const) {
    test(`${title(g, variant)}: ${kind} fused into forward and backward-data matches the reference`, async ({ gpuPage }) => {
      const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/conv2d.ts', 'conv2dFusedVsReference', g, k, kind);
      for (const r of results) expect(r.ok, r.message).toBe(true);
    });
  }
}

// Small shapes (every element is perturbed twice): strided + padded, a plain one with a 2×2 kernel, and a
// padded one whose 16 input channels take rung 4's backward-data on CPU shapes.
const gradCases: ConvSizes[] = [
  { rows: 2, inChannels: 3, height: 6, width: 5, outChannels: 4, kernel: 3, stride: 2, padding: 1 },
  { rows: 2, inChannels: 2, height: 5, width: 5, outChannels: 3, kernel: 2, stride: 1, padding: 0 },
  { rows: 1, inChannels: 16, height: 5, width: 4, outChannels: 3, kernel: 3, stride: 1, padding: 1 },
];

for (const [variant, k] of variants) {
  for (const g of gradCases) {
    test(`${title(g, variant)}: backward matches central finite differences`, async ({ gpuPage }) => {
      const results = await inPage<Closeness[]>(gpuPage, 'tests/browser/conv2d.ts', 'conv2dGradCheck', g, k);
      for (const r of results) expect(r.ok, r.message).toBe(true);
    });
  }
}

test('conv2d micro-benchmark (CONV_BENCH=1)', async ({ gpuPage }) => {
  test.skip(!process.env.CONV_BENCH, 'set CONV_BENCH=1 to time the MNIST convolutions at every rung, batch 1000 (CONV_BENCH_ROWS)');
  test.setTimeout(600_000);
  const times = await inPage<Record<string, number>>(gpuPage, 'tests/browser/conv2d.ts', 'conv2dBenchmark', Number(process.env.CONV_BENCH_ROWS ?? 1000), 3);
  for (const [k, v] of Object.entries(times)) console.log(`${k.padEnd(48)} ${v.toFixed(1)}`);
});

node('conv2d output shapes follow PyTorch: ⌊(size + 2p − k) / s⌋ + 1', () => {
  expect(conv2d({ out: 16, kernel: 5, stride: 2 }).outputShape([1, 28, 28], 0)).toEqual([16, 12, 12]);
  expect(conv2d({ out: 8, kernel: 3 }).outputShape([16, 12, 12], 2)).toEqual([8, 10, 10]);
  expect(conv2d({ out: 4, kernel: 3, padding: 1 }).outputShape([3, 7, 5], 0)).toEqual([4, 7, 5]);
  expect(conv2d({ out: 1, kernel: 4, stride: 3, padding: 1 }).outputShape([8, 11, 11], 0)).toEqual([1, 4, 4]);
});

node('conv2d shape errors name the layer and the numbers', () => {
  expect(() => conv2d({ out: 8, kernel: 3 }).outputShape([784], 2)).toThrow(ShapeError);
  expect(() => conv2d({ out: 8, kernel: 3 }).outputShape([784], 2)).toThrow(/conv2d #2: input must be \[channels, height, width\] but is 784 \(rank 1\)/);
  expect(() => conv2d({ out: 8, kernel: 5 }).outputShape([16, 3, 3], 4)).toThrow(/conv2d #4: kernel 5 is larger than its 3×3 input padded by 0/);
  expect(() => conv2d({ out: 8, kernel: 5, padding: 1 }).outputShape([16, 3, 3], 1)).not.toThrow();
});

node('conv2d options are validated up front', () => {
  expect(() => conv2d({ out: 0, kernel: 3 })).toThrow(ConfigError);
  expect(() => conv2d({ out: 0, kernel: 3 })).toThrow(/conv2d out 0/);
  expect(() => conv2d({ out: 4, kernel: 0 })).toThrow(/conv2d kernel 0/);
  expect(() => conv2d({ out: 4, kernel: 3, stride: 0 })).toThrow(/conv2d stride 0/);
  expect(() => conv2d({ out: 4, kernel: 3, stride: 1.5 })).toThrow(/conv2d stride 1.5/);
  expect(() => conv2d({ out: 4, kernel: 3, padding: -1 })).toThrow(/conv2d padding -1/);
});

node('conv2d parameters: weight [out, in, k, k] and bias, PyTorch init U(±1/√(in·k·k))', () => {
  const [weight, bias] = conv2d({ out: 16, kernel: 5, stride: 2 }).params([3, 28, 28]);
  expect(weight!.name).toBe('weight');
  expect(weight!.shape).toEqual([16, 3, 5, 5]);
  expect(bias!.name).toBe('bias');
  expect(bias!.shape).toEqual([16]);
  const bound = 1 / Math.sqrt(3 * 25);
  const w = weight!.init(new Rng(1));
  expect(w.length).toBe(16 * 75);
  expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
  expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
  expect(Math.max(...bias!.init(new Rng(2)).map(Math.abs))).toBeLessThanOrEqual(bound);
});

import { expect, inPage, test } from './support/fixtures.ts';
import type { DenseRun, DenseVariant } from './browser/dense.ts';

// Input counts that are multiples of 4 take the register-blocked rungs (shaders/dense_2_blocks.wgsl and above,
// any output count), the others the tiled one (shaders/dense_1_tiles.wgsl); rung 0 (shaders/dense.wgsl) takes
// all. Sizes on and off the 8×8 / 64×64 / 32×32 tiles, the MNIST ones included, output counts off the vec4 grid (10, 3), odd batch sizes (summed over in dW),
// products at most 16 wide or tall (their workgroups take 16×256 and 256×16 tiles: [1000, 64, 10]'s forward,
// [64, 800, 10]'s dW; 16 invocations and 16×64 when at most 16 wide and 64 tall: cnn-arch1's [64, 800, 10], [13, 8, 3];
// 64×16 when at most 16 tall and 64 wide: [1000, 64, 10]'s dW, [9, 40, 24]'s forward),
// and, on a fallback adapter, 32×16 blocks per invocation wherever the tile is square (WIDE below; on and
// off their 64×64 tiles: [1000, 784, 128], [300, 520, 260]).
const shapes: Array<[rows: number, inF: number, outF: number]> = [
  [64, 784, 128], [33, 10, 1], [1, 1, 1], [7, 33, 65], [100, 128, 64], [1000, 64, 10], [37, 12, 20], [5, 8, 4], [130, 72, 36],
  [13, 8, 3], [66, 800, 10], [64, 800, 10], [9, 40, 24], [1000, 784, 128], [300, 520, 260],
];

// The wide entry points each shape takes on a fallback adapter (forward: out × rows, dx: in × rows, dW: in × out;
// products more than 16 wide and tall with `in` a multiple of 4 take square tiles); the others take none.
const ALL = ['forward_wide', 'backward_data_wide', 'backward_weights_wide'];
const WIDE: Record<string, string[]> = {
  '64,784,128': ALL, '100,128,64': ALL, '1000,64,10': ['backward_data_wide'], '37,12,20': ['forward_wide'], '130,72,36': ALL,
  '66,800,10': ['backward_data_wide'], '64,800,10': ['backward_data_wide'], '9,40,24': ['backward_weights_wide'], '1000,784,128': ALL, '300,520,260': ALL,
};

// The products whose sums a GPU's shapes split (SPLITS > 1, a reduce_splits pass each) in the quads and plain
// variants: forward and dW of the big shapes, the narrow forwards of the 800→10 layer, dW of a 10-output layer
// over 1,000 rows. A CPU adapter splits nothing.
const SPLIT: Record<string, number> = {
  '1000,784,128': 2, '300,520,260': 2, '64,800,10': 1, '66,800,10': 1, '1000,64,10': 1, '100,128,64': 1, '130,72,36': 1, '64,784,128': 1,
};

// The products a CPU adapter's shapes split (one workgroup, a long sum): the narrow forwards of the 800→10 layer
// (800 inputs) and the flat dW of a 10-output layer over 1,000 rows.
const CPU_SPLIT: Record<string, number> = { '64,800,10': 1, '66,800,10': 1, '1000,64,10': 1 };

// The rung each product takes under a variant (tests/browser/dense.ts DenseVariant), bias gradient last: the
// textbook kernels everywhere; the tiled one (its bias gradient rung 0's); the blocked rungs for `in` a multiple
// of 4 (bias gradient: rung 2's), the tiled one otherwise.
function expectedRungs(variant: DenseVariant, inF: number, entries: string[]): number[] {
  return entries.map((entry) => {
    if (variant === 'textbook') return 0;
    if (entry === 'bias_grad') return variant === 'tiles' ? 0 : 2;
    if (variant === 'tiles' || inF % 4 !== 0) return 1;
    if (variant === 'blocks') return 2;
    return entry.endsWith('_wide') ? 4 : 3;
  });
}

// Every rung of dense: with subgroups (where the device has the feature, as SwiftShader does) and 32×16 blocks
// where a shape takes them (a fallback adapter's choice), with subgroups and 8×8 blocks only (a GPU's), the
// register blocks that devices without subgroups get, the tiled kernel, and rung 0.
for (const variant of ['wide', 'quads', 'blocks', 'tiles', 'textbook'] as const) {
  for (const [rows, inF, outF] of shapes) {
    test(`dense ${rows}×${inF} → ${outF}, ${variant}: forward, dx, dW, db match the float64 reference`, async ({ gpuPage }) => {
      const run = await inPage<DenseRun>(gpuPage, 'tests/browser/dense.ts', 'denseVsReference', rows, inF, outF, variant);
      for (const r of run.results) expect(r.ok, r.message).toBe(true);
      expect(run.rungs).toEqual(expectedRungs(variant, inF, run.entries));
      expect(run.quads).toBe((variant === 'wide' || variant === 'quads') && inF % 4 === 0);
      // The shapes above that should take 32×16 blocks do: else the wide kernels would go untested.
      const wide = variant === 'wide' ? WIDE[`${rows},${inF},${outF}`] ?? [] : [];
      expect(run.entries.filter((e) => e.endsWith('_wide'))).toEqual(wide);
      const splits = variant === 'tiles' || variant === 'textbook' ? 0 : (variant === 'wide' ? CPU_SPLIT : SPLIT)[`${rows},${inF},${outF}`] ?? 0;
      expect(run.entries.filter((e) => e === 'reduce_splits').length).toBe(splits);
    });
  }
}

// x as bytes (a model's first layer on images): the forward and dW on and off the tiles, MNIST's 784 inputs, on
// every rung that reads bytes (the blocked ones).
for (const variant of ['wide', 'quads', 'blocks'] as const) {
  for (const [rows, inF, outF] of [[64, 784, 128], [1000, 784, 128], [37, 12, 20], [13, 8, 3], [9, 40, 24]] as const) {
    test(`dense ${rows}×${inF} → ${outF}, ${variant}, x as bytes: forward and dW match the float64 reference`, async ({ gpuPage }) => {
      const run = await inPage<DenseRun>(gpuPage, 'tests/browser/dense.ts', 'denseBytesVsReference', rows, inF, outF, variant);
      for (const r of run.results) expect(r.ok, r.message).toBe(true);
      expect(run.rungs).toEqual(expectedRungs(variant, inF, run.entries));
      expect(run.quads).toBe(variant !== 'blocks');
      const wide = variant === 'wide' ? (WIDE[`${rows},${inF},${outF}`] ?? []).filter((e) => e !== 'backward_data_wide') : [];
      expect(run.entries.filter((e) => e.endsWith('_wide'))).toEqual(wide);
    });
  }
}

// The quad kernels are built only where the probe finds every quad of lanes laid out as they need (gpu.facts.quadsAligned):
// so on SwiftShader, in workgroups of the sizes they take (8, 16 and 64 invocations), and not where a workgroup of 6
// leaves its second quad incomplete.
test('the quad probe finds quads aligned in workgroups of 8, 16 and 64 invocations, not of 6', async ({ gpuPage }) => {
  expect(await inPage<boolean>(gpuPage, 'tests/browser/dense.ts', 'quadsAlignedIn', [8, 16, 64])).toBe(true);
  expect(await inPage<boolean>(gpuPage, 'tests/browser/dense.ts', 'quadsAlignedIn', [6])).toBe(false);
  expect(await inPage<boolean>(gpuPage, 'tests/browser/dense.ts', 'quadsAlignedIn', [64, 6])).toBe(false);
});

// A forward with an activation fused into its store, on every rung that fuses. Under a GPU's shapes ('quads'
// and 'blocks') the 1000×784 → 128 forward's sum is split, and reduce_splits applies the bias and f: the only
// place a split forward meets an activation (a fallback adapter never splits that product).
for (const [variant, kind, splits] of [['quads', 'relu', 1], ['blocks', 'sigmoid', 1], ['wide', 'elu', 0], ['textbook', 'leaky_relu', 0]] as const) {
  test(`dense 1000×784 → 128, ${variant}, ${kind} fused into the forward${splits ? ' (split)' : ''}: matches f(x·Wᵀ + b) in float64`, async ({ gpuPage }) => {
    const run = await inPage<DenseRun>(gpuPage, 'tests/browser/dense.ts', 'denseActivatedVsReference', 1000, 784, 128, variant, kind);
    for (const r of run.results) expect(r.ok, r.message).toBe(true);
    expect(run.entries.filter((e) => e === 'reduce_splits').length).toBe(splits);
  });
}

// Odd shapes (in 36, out 7, 13 rows; in 130) with the fused activation, on the rungs that take them.
for (const [rows, inF, outF, variant] of [[13, 36, 7, 'quads'], [13, 36, 7, 'wide'], [13, 130, 7, 'textbook']] as const) {
  test(`dense ${rows}×${inF} → ${outF}, ${variant}, sigmoid fused: matches f(x·Wᵀ + b) in float64`, async ({ gpuPage }) => {
    const run = await inPage<DenseRun>(gpuPage, 'tests/browser/dense.ts', 'denseActivatedVsReference', rows, inF, outF, variant, 'sigmoid');
    for (const r of run.results) expect(r.ok, r.message).toBe(true);
  });
}

// The backward kernels against central differences of the forward, sigmoid's f' fused into dx: rung 0 on an
// odd shape, and the rungs SwiftShader and a GPU run by default.
for (const [rows, inF, outF, variant] of [[3, 5, 4, 'textbook'], [3, 8, 4, 'textbook'], [5, 8, 6, 'wide'], [5, 8, 6, 'quads']] as const) {
  test(`dense ${rows}×${inF} → ${outF}, ${variant}: dx (with σ' fused), dW, db match central differences`, async ({ gpuPage }) => {
    const run = await inPage<DenseRun>(gpuPage, 'tests/browser/dense.ts', 'denseFiniteDifferences', rows, inF, outF, variant, 1e-2);
    for (const r of run.results) expect(r.ok, r.message).toBe(true);
    if (variant === 'textbook') expect(new Set(run.rungs)).toEqual(new Set([0]));
  });
}

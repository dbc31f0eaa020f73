import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { makeTarget, type DeviceFacts, type KernelChoice, type OpFamily } from '../src/gpu/target.ts';
import {
  DENSE_RUNGS, denseBackwardDataPlan, denseBackwardWeightsPlan, denseBiasPlan, denseForwardPlan, denseFusesActivations, denseTakesBytes,
  type DensePlan, type DenseShape,
} from '../src/layers/dense-policy.ts';
import { LADDERS } from '../src/layers/ladders.ts';

// dense's kernel policy in Node, without a GPU: which rung, entry point, tile, grid and splits each product
// of a layer gets for the targets a run can ask for. The numbers are worked out by hand from the rules in
// src/layers/dense-policy.ts (tiles of 8×8 blocks, 64×64 wide tiles, split sums to ~32,768 invocations on a GPU,
// one slice per core for a CPU adapter's lone workgroup).

/** SwiftShader as tests/ see it: a fallback adapter with subgroups, quads aligned, 2 cores. */
const SWIFTSHADER: DeviceFacts = {
  fallback: true, subgroups: true, quadsAligned: true, cores: 2,
  maxStorageBufferBindingSize: 2 ** 30, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535,
};
/** A discrete GPU with subgroups, on a 16-core machine. */
const DISCRETE: DeviceFacts = { ...SWIFTSHADER, fallback: false, cores: 16, maxStorageBufferBindingSize: 2 ** 31 };

const target = (facts: DeviceFacts, choice: KernelChoice = 'auto', ceiling: Partial<Record<OpFamily, number>> = {}) => makeTarget(facts, choice, ceiling);
const shape = (rows: number, inFeatures: number, outFeatures: number): DenseShape => ({ rows, inFeatures, outFeatures });

/** The parts of a plan a test pins: rung, file, entry, tile, grid, splits. */
function summary(plan: DensePlan) {
  return {
    rung: plan.rung.index, shader: plan.shader, entry: plan.entry, workgroups: plan.workgroups, splits: plan.splits,
    tile: plan.defines.TILE_X === undefined ? null : [plan.defines.TILE_X, plan.defines.INVOCATIONS],
  };
}

test('the MLP 784→128 layer at batch 64 on a fallback adapter (auto): wide CPU blocks, no splits, bytes read', () => {
  const t = target(SWIFTSHADER);
  const s = shape(64, 784, 128);
  // Forward 16×32 blocks: 4 across × 2 down = 8 invocations per 64×64 tile; 128 outputs × 64 rows = 2 × 1 tiles.
  expect(summary(denseForwardPlan(s, t, 'u8x4'))).toEqual({ rung: 4, shader: 'dense_4_wide', entry: 'forward_wide', workgroups: [2, 1, 1], splits: 1, tile: [4, 8] });
  expect(summary(denseBackwardDataPlan(s, t))).toEqual({ rung: 4, shader: 'dense_4_wide', entry: 'backward_data_wide', workgroups: [13, 1, 1], splits: 1, tile: [4, 8] });
  // dW 32×16 blocks: 2 across × 4 down; 784 inputs × 128 outputs = 13 × 2 tiles.
  expect(summary(denseBackwardWeightsPlan(s, t, 'u8x4'))).toEqual({ rung: 4, shader: 'dense_4_wide', entry: 'backward_weights_wide', workgroups: [13, 2, 1], splits: 1, tile: [2, 8] });
  const bias = denseBiasPlan(s, t);
  expect(summary(bias)).toEqual({ rung: 2, shader: 'dense_2_blocks', entry: 'bias_grad', workgroups: [2, 1, 1], splits: 1, tile: [8, 64] });
  expect(bias.defines).toMatchObject({ BIAS_OUTS: 64, BIAS_SLICES: 1, BIAS_SLICED: false });
  expect(denseTakesBytes(784, t)).toBe(true);
  expect(denseFusesActivations(784, t)).toBe(true);
});

test('the MLP 64→10 layer at batch 1000 on a fallback adapter: narrow and flat tiles; the lone dW workgroup split one slice per core', () => {
  const t = target(SWIFTSHADER);
  const s = shape(1000, 64, 10);
  // 10 columns: narrow, 2 blocks across, 64 invocations (rows > 64): 16×256 outputs, 4 workgroups down.
  expect(summary(denseForwardPlan(s, t))).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'forward', workgroups: [1, 4, 1], splits: 1, tile: [2, 64] });
  // dW: 64 columns × 10 rows is flat and at most 64 wide: 16 invocations, 64×16 outputs, one workgroup.
  const dW = denseBackwardWeightsPlan(s, t);
  expect(summary(dW)).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'backward_weights', workgroups: [1, 1, 2], splits: 2, tile: [8, 16] });
  expect(dW.reduce).toEqual({ entry: 'reduce_splits', workgroups: [3, 1] });  // 640 outputs, 256 a workgroup
  expect(dW.defines.FORWARD_SPLIT).toBe(false);
  // dx: 64 inputs × 1000 rows is square: wide blocks.
  expect(summary(denseBackwardDataPlan(s, t)).entry).toBe('backward_data_wide');
});

test('a discrete GPU (auto) splits the sums of its big products and keeps 8×8 quad blocks', () => {
  const t = target(DISCRETE);
  const s = shape(1000, 784, 128);
  // Forward: 2 × 16 workgroups of 64 = 2,048 invocations: round(32,768 / 2,048) = 16 slices, but at most 784 / 64 = 12.
  const forward = denseForwardPlan(s, t);
  expect(summary(forward)).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'forward', workgroups: [2, 16, 12], splits: 12, tile: [8, 64] });
  expect(forward.defines).toMatchObject({ SPLITS: 12, FORWARD_SPLIT: true });
  expect(forward.reduce).toEqual({ entry: 'reduce_splits', workgroups: [500, 1] });
  // dW: 13 × 2 workgroups = 1,664 invocations: round(19.7) = 20 slices, at most 1,000 / 64 = 15.
  expect(summary(denseBackwardWeightsPlan(s, t))).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'backward_weights', workgroups: [13, 2, 15], splits: 15, tile: [8, 64] });
  // dx is never split: its sum runs over `out`.
  expect(summary(denseBackwardDataPlan(s, t))).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'backward_data', workgroups: [13, 16, 1], splits: 1, tile: [8, 64] });
  expect(denseBiasPlan(s, t).defines).toMatchObject({ BIAS_OUTS: 16, BIAS_SLICES: 16, BIAS_SLICED: true });
  expect(denseBiasPlan(s, t).workgroups).toEqual([8, 1, 1]);
});

test('--kernels gpu on SwiftShader gives a GPU\'s shapes, --kernels cpu on a GPU a CPU adapter\'s with its own core count', () => {
  const s = shape(1000, 784, 128);
  expect(summary(denseForwardPlan(s, target(SWIFTSHADER, 'gpu')))).toEqual(summary(denseForwardPlan(s, target(DISCRETE))));
  expect(summary(denseForwardPlan(s, target(DISCRETE, 'cpu')))).toEqual(summary(denseForwardPlan(s, target(SWIFTSHADER))));
  // A CPU adapter's lone workgroup takes a slice per core, each at least 256 terms: 16 cores, 1,000 rows → 3.
  expect(denseBackwardWeightsPlan(shape(1000, 64, 10), target(DISCRETE, 'cpu')).splits).toBe(3);
});

test('--kernels plain is rung 0 for every product and shape: one invocation per output, the grid folded past 65,535', () => {
  for (const facts of [SWIFTSHADER, DISCRETE]) {
    const t = target(facts, 'plain');
    const s = shape(1000, 784, 128);
    expect(summary(denseForwardPlan(s, t))).toEqual({ rung: 0, shader: 'dense', entry: 'forward', workgroups: [2000, 1, 1], splits: 1, tile: null });
    expect(summary(denseBackwardDataPlan(s, t))).toEqual({ rung: 0, shader: 'dense', entry: 'backward_data', workgroups: [12250, 1, 1], splits: 1, tile: null });
    expect(summary(denseBackwardWeightsPlan(s, t))).toEqual({ rung: 0, shader: 'dense', entry: 'backward_weights', workgroups: [1568, 1, 1], splits: 1, tile: null });
    expect(summary(denseBiasPlan(s, t))).toEqual({ rung: 0, shader: 'dense', entry: 'bias_grad', workgroups: [2, 1, 1], splits: 1, tile: null });
    // 10,000 rows × 784 inputs = 122,500 workgroups of 64: 61,250 × 2.
    expect(denseBackwardDataPlan(shape(10_000, 784, 128), t).workgroups).toEqual([61250, 2, 1]);
    // Rung 0 reads x as f32 only, so a model gathers f32; it fuses activations.
    expect(denseTakesBytes(784, t)).toBe(false);
    expect(denseFusesActivations(784, t)).toBe(true);
    expect(() => denseForwardPlan(s, t, 'u8x4')).toThrow(/x as bytes needs a register-blocked rung/);
  }
});

test('rung ceilings cap dense below its best rung', () => {
  const s = shape(64, 784, 128);
  const rungs = (ceiling: number) => {
    const t = target(SWIFTSHADER, 'auto', { dense: ceiling });
    return [denseForwardPlan(s, t), denseBackwardDataPlan(s, t), denseBackwardWeightsPlan(s, t), denseBiasPlan(s, t)].map((p) => p.rung.index);
  };
  expect(rungs(4)).toEqual([4, 4, 4, 2]);
  expect(rungs(3)).toEqual([3, 3, 3, 2]);
  expect(rungs(2)).toEqual([2, 2, 2, 2]);
  expect(rungs(1)).toEqual([1, 1, 1, 0]);
  expect(rungs(0)).toEqual([0, 0, 0, 0]);
  // A ceiling on another op leaves dense alone.
  expect(denseForwardPlan(s, target(SWIFTSHADER, 'auto', { conv2d: 0 })).rung.index).toBe(4);
  // Rung 1, the tiled matmul: 32×32 outputs per workgroup; the products are one kernel with transposes.
  const tiles = target(SWIFTSHADER, 'auto', { dense: 1 });
  const forward = denseForwardPlan(s, tiles);
  expect(summary(forward)).toEqual({ rung: 1, shader: 'dense_1_tiles', entry: 'main', workgroups: [4, 2, 1], splits: 1, tile: null });
  expect(forward.defines).toMatchObject({ TILE_M: 32, TILE_N: 32, TILE_K: 16, A_TRANSPOSED: false, B_TRANSPOSED: true });
  expect(denseBackwardWeightsPlan(s, tiles).defines).toMatchObject({ A_TRANSPOSED: true, B_TRANSPOSED: false });
  expect(denseTakesBytes(784, tiles)).toBe(false);
  expect(denseFusesActivations(784, tiles)).toBe(false);
});

test('devices without subgroups, or whose quads are not laid out as planned, take register blocks (rung 2)', () => {
  for (const facts of [{ ...SWIFTSHADER, subgroups: false, quadsAligned: false }, { ...SWIFTSHADER, quadsAligned: false }, { ...DISCRETE, subgroups: false, quadsAligned: false }]) {
    const t = target(facts);
    const s = shape(64, 784, 128);
    expect([denseForwardPlan(s, t), denseBackwardDataPlan(s, t), denseBackwardWeightsPlan(s, t)].map((p) => p.entry)).toEqual(['forward', 'backward_data', 'backward_weights']);
    expect(denseForwardPlan(s, t).rung.index).toBe(2);
    expect(denseForwardPlan(s, t).shader).toBe('dense_2_blocks');
  }
});

test('shapes no preset uses: in 36, out 7, 13 rows on blocked rungs; in 130 on the tiled one', () => {
  const s = shape(13, 36, 7);
  const cpu = target(SWIFTSHADER);
  // Forward: 7 columns (narrow) × 13 rows (≤ 64): 16 invocations; dx and dW flat (≤ 16 rows) and ≤ 64 wide: 16.
  expect(summary(denseForwardPlan(s, cpu))).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'forward', workgroups: [1, 1, 1], splits: 1, tile: [2, 16] });
  expect(summary(denseBackwardDataPlan(s, cpu))).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'backward_data', workgroups: [1, 1, 1], splits: 1, tile: [8, 16] });
  expect(summary(denseBackwardWeightsPlan(s, cpu))).toEqual({ rung: 3, shader: 'dense_3_quads', entry: 'backward_weights', workgroups: [1, 1, 1], splits: 1, tile: [8, 16] });
  // On a GPU the sums are too short to split (36 inputs, 13 rows: under 64 terms a slice).
  expect(denseForwardPlan(s, target(DISCRETE)).splits).toBe(1);
  expect(denseBackwardWeightsPlan(s, target(DISCRETE)).splits).toBe(1);

  const odd = shape(13, 130, 7);
  for (const t of [cpu, target(DISCRETE), target(SWIFTSHADER, 'gpu'), target(DISCRETE, 'cpu')]) {
    expect([denseForwardPlan(odd, t), denseBackwardDataPlan(odd, t), denseBackwardWeightsPlan(odd, t)].map((p) => [p.rung.index, p.entry])).toEqual([[1, 'main'], [1, 'main'], [1, 'main']]);
    expect(denseTakesBytes(130, t)).toBe(false);
    expect(() => denseForwardPlan(odd, t, 'u8x4')).toThrow(/x as bytes/);
  }
  // 13 × 130 = 1,690 outputs, 64 a workgroup.
  expect(summary(denseBackwardDataPlan(odd, target(SWIFTSHADER, 'plain')))).toEqual({ rung: 0, shader: 'dense', entry: 'backward_data', workgroups: [27, 1, 1], splits: 1, tile: null });
});

test('the policy is pure: the same shapes and target give the same plan', () => {
  const s = shape(300, 520, 260);
  for (const t of [target(SWIFTSHADER), target(DISCRETE), target(SWIFTSHADER, 'gpu', { dense: 3 })]) {
    expect(denseForwardPlan(s, t)).toEqual(denseForwardPlan({ ...s }, makeTarget({ ...t.device }, t.choice, { ...t.rungCeiling })));
  }
});

test('dense\'s ladder: rung i at index i, each file in shaders/, rung 0 at most 200 lines without #if, each rung\'s header names its trick', () => {
  expect(LADDERS.dense).toBe(DENSE_RUNGS);
  DENSE_RUNGS.forEach((rung, i) => {
    expect(rung.index).toBe(i);
    expect(rung.op).toBe('dense');
    const text = readFileSync(new URL(`../shaders/${rung.file}.wgsl`, import.meta.url), 'utf8');
    const header = text.split('\n')[0]!;
    expect(header.startsWith(`// Dense layer, rung ${i}: `), header).toBe(true);
    expect(header).toContain(rung.name);
    if (i === 0) {
      expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(200);
      expect(text).not.toMatch(/^#if/m);
    }
  });
  expect(DENSE_RUNGS.filter((r) => r.suits !== 'any').map((r) => [r.name, r.suits])).toEqual([['wide CPU blocks', 'cpu']]);
});

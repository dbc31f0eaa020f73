// conv2d's kernel policy (src/layers/conv2d-policy.ts) in Node, without a GPU: which rung, entry point,
// defines and grid each product takes under every kind of target, on the presets' layers and on shapes no
// preset uses. The kernels themselves are checked against the float64 reference in tests/conv2d.spec.ts.
import { test as node } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { makeTarget, type DeviceFacts, type KernelChoice, type Target } from '../src/gpu/target.ts';
import {
  CONV2D_RUNGS, conv2dBackwardDataPlan, conv2dBackwardFilterPlan, conv2dBiasGradPlan, conv2dForwardPlan, convOutputSize,
  gemmFitsData, gemmFitsForward,
  type ConvKernel, type ConvSizes,
} from '../src/layers/conv2d-policy.ts';
import { expect } from './support/fixtures.ts';

const limits = { maxStorageBufferBindingSize: 2 ** 31, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535 };
/** SwiftShader as Chromium offers it: a fallback adapter with subgroups whose quads are aligned. */
const swiftShader: DeviceFacts = { fallback: true, subgroups: true, quadsAligned: true, cores: 2, ...limits };
const discrete: DeviceFacts = { fallback: false, subgroups: true, quadsAligned: true, cores: 16, ...limits };
const noSubgroups: DeviceFacts = { ...discrete, subgroups: false, quadsAligned: false };

/** cnn-arch1's two convolutions (src/presets), and shapes no preset uses: 3 channels, odd sizes, kernel 4, padding. */
const conv1 = { inChannels: 1, height: 28, width: 28, outChannels: 16, kernel: 5, stride: 2, padding: 0 };
const conv2 = { inChannels: 16, height: 12, width: 12, outChannels: 8, kernel: 3, stride: 1, padding: 0 };
const odd = { inChannels: 3, height: 11, width: 9, outChannels: 5, kernel: 4, stride: 2, padding: 1 };
const shapes: ConvSizes[] = [
  { ...conv1, rows: 64 }, { ...conv1, rows: 1000 }, { ...conv2, rows: 64 }, { ...conv2, rows: 1000 },
  { ...odd, rows: 3 }, { inChannels: 8, height: 6, width: 6, outChannels: 3, kernel: 1, stride: 1, padding: 0, rows: 1 },
  { inChannels: 16, height: 8, width: 8, outChannels: 16, kernel: 2, stride: 2, padding: 0, rows: 4096 },
  { inChannels: 32, height: 7, width: 5, outChannels: 5, kernel: 3, stride: 1, padding: 1, rows: 3 },
  { inChannels: 5, height: 11, width: 9, outChannels: 7, kernel: 3, stride: 1, padding: 1, rows: 3 },
];

const targets: Array<[string, Target]> = [
  ['SwiftShader auto', makeTarget(swiftShader)],
  ['GPU auto', makeTarget(discrete)],
  ['GPU without subgroups auto', makeTarget(noSubgroups)],
  ...(['plain', 'gpu', 'cpu'] as KernelChoice[]).flatMap((choice): Array<[string, Target]> => [
    [`SwiftShader ${choice}`, makeTarget(swiftShader, choice)],
    [`GPU ${choice}`, makeTarget(discrete, choice)],
  ]),
  ...[0, 1, 2, 3, 4].map((ceiling): [string, Target] => [`SwiftShader ceiling ${ceiling}`, makeTarget(swiftShader, 'auto', { conv2d: ceiling })]),
  ['GPU ceiling 1', makeTarget(discrete, 'auto', { conv2d: 1 })],
];

const positions = (g: ConvSizes) => g.rows * convOutputSize(g.height, g.kernel, g.stride, g.padding) * convOutputSize(g.width, g.kernel, g.stride, g.padding);
const invocations = (k: ConvKernel, perGroup: number) => k.workgroups[0] * k.workgroups[1] * perGroup;
const rungsOf = (g: ConvSizes, t: Target) => [
  conv2dForwardPlan(g, t).rung.index, conv2dBackwardDataPlan(g, t).rung.index,
  conv2dBackwardFilterPlan(g, t).sum.rung.index, conv2dBiasGradPlan(g, t).sum.rung.index,
];

node('CONV2D_RUNGS: rung n is shaders/conv2d_<n>_<trick>.wgsl (rung 0 shaders/conv2d.wgsl), in order', () => {
  expect(CONV2D_RUNGS.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
  expect(CONV2D_RUNGS[0]!.file).toBe('conv2d');
  for (const rung of CONV2D_RUNGS.slice(1)) expect(rung.file).toMatch(new RegExp(`^conv2d_${rung.index}_\\w+$`));
  for (const rung of CONV2D_RUNGS) expect(rung.op).toBe('conv2d');
});

node('conv2d rung files: rung 0 is at most 200 lines with no #if; no #if outside a function body in any rung', () => {
  const rung0 = readFileSync('shaders/conv2d.wgsl', 'utf8');
  expect(rung0.split('\n').length).toBeLessThanOrEqual(200);
  expect(rung0).not.toMatch(/^#if/m);
  for (const file of [...CONV2D_RUNGS.map((r) => r.file), 'conv2d_common', 'conv2d_blocks']) {
    let depth = 0;
    for (const [i, line] of readFileSync(`shaders/${file}.wgsl`, 'utf8').split('\n').entries()) {
      if (/^#(if|elif|else)/.test(line)) expect(depth, `shaders/${file}.wgsl:${i + 1} ${line}`).toBeGreaterThan(0);
      depth += (line.match(/{/g) ?? []).length - (line.match(/}/g) ?? []).length;
    }
  }
});

node('conv2d policy: SwiftShader auto takes rung 3 (and rung 1 for the bias, rung 4 for an unpadded forward and a stride-1 dx) with the CPU shapes', () => {
  const t = makeTarget(swiftShader);
  expect(rungsOf({ ...conv1, rows: 64 }, t)).toEqual([4, 3, 3, 1]);
  expect(rungsOf({ ...conv2, rows: 64 }, t)).toEqual([4, 4, 3, 1]);
  // conv1's forward on rung 4: 9,216 output positions, 32 an invocation (16 channels, the wide block), 16
  // invocations a workgroup; x read in place, so only the weights are packed: 16 channels · 7 vec4s of 25 taps.
  const forward = conv2dForwardPlan({ ...conv1, rows: 64 }, t, { kind: 'relu', alpha: 0 });
  expect(forward).toMatchObject({ shader: 'conv2d_4_gemm', entry: 'forward', workgroups: [18, 1, 1] });
  expect(forward.defines).toMatchObject({ FORWARD: true, WIDE: true, ACTIVATED: true, RELU: true, OUT_H: 12, OUT_W: 12 });
  expect(forward.packs).toMatchObject({ packDy: null, dyFloats: 0, weightFloats: 16 * 7 * 4, packWeight: { entry: 'pack_weight', workgroups: [2, 1, 1] } });
  // conv2's: 6,400 positions, 64 an invocation (8 channels, the narrow block); 144 taps in 36 vec4s.
  const forward2 = conv2dForwardPlan({ ...conv2, rows: 64 }, t);
  expect(forward2).toMatchObject({ shader: 'conv2d_4_gemm', entry: 'forward', workgroups: [7, 1, 1], defines: { FORWARD: true, WIDE: false, ACTIVATED: false } });
  expect(forward2.packs).toMatchObject({ weightFloats: 8 * 36 * 4 });
  // A sample's outputs in whole vec4s (12·12, 10·10) are stored a vec4 at a time; 9·7 are stored one by one.
  expect([forward.defines.ALIGNED, forward2.defines.ALIGNED]).toEqual([true, true]);
  expect(conv2dForwardPlan({ ...conv2, height: 11, width: 9, rows: 3 }, t).defines.ALIGNED).toBe(false);
  // Capped at rung 3: blocks of 64 invocations × 8 columns, 2 blocks of 8 channels, no packs.
  const capped3 = conv2dForwardPlan({ ...conv1, rows: 64 }, makeTarget(swiftShader, 'auto', { conv2d: 3 }), { kind: 'relu', alpha: 0 });
  expect(capped3).toMatchObject({ shader: 'conv2d_3_subgroups', entry: 'forward', workgroups: [18, 1, 2], packs: null });
  expect(capped3.defines).toMatchObject({ THREADS: 64, PADDED: false, STRIDED: true, ACTIVATED: true, RELU: true, OUT_H: 12, OUT_W: 12 });
  // Forward's block: 16 channels unless that pads more than blocks of 8 (5 → 8, 12 → 16, 24 → 3 × 8, 32 → 2 × 16).
  const wide = (outChannels: number) => conv2dForwardPlan({ ...conv2, outChannels, rows: 3 }, t);
  expect([5, 12, 24, 32].map((n) => [wide(n).defines.WIDE, wide(n).workgroups[2]])).toEqual([[false, 1], [true, 1], [false, 3], [true, 2]]);
  // Forward stays on rung 3 where padding would need masks, or whole vec4s of taps pad the sum by more than 1/3
  // (1 tap → 4, 2 → 4, 5 → 8; 9 → 12 and 6 → 8 are at the limit).
  expect(conv2dForwardPlan({ ...conv2, padding: 1, rows: 64 }, t).rung.index).toBe(3);
  const forwardRung = (inChannels: number, kernel: number) => conv2dForwardPlan({ ...conv1, inChannels, kernel, rows: 64 }, t).rung.index;
  expect([[1, 1], [2, 1], [5, 1], [1, 3], [6, 1]].map(([c, k]) => forwardRung(c!, k!))).toEqual([3, 3, 3, 4, 4]);
  // backward-filter: 25 taps → 4 invocations; ≥ 256 positions a split (36 splits), reduce_splits one invocation per weight.
  const filter = conv2dBackwardFilterPlan({ ...conv1, rows: 64 }, t);
  expect(filter.sum).toMatchObject({ shader: 'conv2d_3_subgroups', entry: 'backward_filter', workgroups: [1, 1, 2 * 36] });
  expect(filter.sum.defines.THREADS).toBe(4);
  expect(filter).toMatchObject({ splitDepth: 256, splits: 36, partialFloats: 36 * 400 });
  expect(filter.reduce).toMatchObject({ shader: 'conv2d_1_split_sums', entry: 'reduce_splits', workgroups: [7, 1, 1] });
  // The bias: ≥ 16,384 positions a split, so one split of 64 images; one invocation per channel adds the partials.
  const bias = conv2dBiasGradPlan({ ...conv1, rows: 64 }, t);
  expect(bias).toMatchObject({ splitDepth: 64, splits: 1, partialFloats: 16 * 64 });
  expect(bias.sum).toMatchObject({ shader: 'conv2d_1_split_sums', entry: 'bias_partials', workgroups: [1, 16, 1] });
  expect(bias.reduce).toMatchObject({ entry: 'bias_reduce', workgroups: [1, 1, 1] });
  // conv2's dx on rung 4: 64 · 144 input positions, 32 an invocation, 16 invocations a workgroup; 16 input channels, one block.
  const data = conv2dBackwardDataPlan({ ...conv2, rows: 64 }, t, { kind: 'relu', alpha: 0 });
  expect(data).toMatchObject({ shader: 'conv2d_4_gemm', entry: 'backward_data', workgroups: [18, 1, 1], defines: { ACTIVATED: true, ALIGNED: true } });
  expect(conv2dBackwardDataPlan({ ...conv2, height: 7, width: 5, padding: 1, rows: 2 }, t).defines.ALIGNED).toBe(false);
  // dy [64, 8, 10, 10] bordered by 2 zeros: 64 · 14 · 14 pixels of 2 vec4s; weights 16 channels · 9 taps · 2 vec4s.
  expect(data.packs).toMatchObject({ dyFloats: 64 * 14 * 14 * 8, weightFloats: 16 * 9 * 8 });
  // One invocation per packed pixel, one per weight vec4.
  expect(data.packs).toMatchObject({ packDy: { entry: 'pack_dy', workgroups: [196, 1, 1] }, packWeight: { entry: 'pack_weight', workgroups: [5, 1, 1] } });
  // Capped at rung 3: subgroup-shared loads, no packs.
  const capped = conv2dBackwardDataPlan({ ...conv2, rows: 64 }, makeTarget(swiftShader, 'auto', { conv2d: 3 }), { kind: 'relu', alpha: 0 });
  expect(capped).toMatchObject({ shader: 'conv2d_3_subgroups', entry: 'backward_data', workgroups: [18, 1, 2], packs: null, defines: { STRIDED: false, ACTIVATED: true } });
  // A GPU keeps rung 3 (the 512 accumulators would spill there); so do stride 2 and channels short of a block of 16.
  expect(rungsOf({ ...conv2, rows: 64 }, makeTarget(discrete))).toEqual([3, 3, 3, 1]);
  expect(rungsOf({ ...conv2, stride: 2, rows: 64 }, t)).toEqual([4, 3, 3, 1]);
  expect(rungsOf({ ...conv2, inChannels: 5, padding: 1, rows: 64 }, t)).toEqual([3, 3, 3, 1]);
  expect(rungsOf({ ...conv2, inChannels: 32, outChannels: 5, padding: 1, rows: 3 }, t)).toEqual([3, 4, 3, 1]);
});

node('conv2d policy: a GPU splits the batch finely and slices the adding', () => {
  const t = makeTarget(discrete);
  const filter = conv2dBackwardFilterPlan({ ...conv1, rows: 64 }, t);
  expect(filter).toMatchObject({ splitDepth: 64, splits: 144 });
  expect(filter.reduce).toMatchObject({ entry: 'reduce_splits_sliced', workgroups: [25, 1, 1] });
  const bias = conv2dBiasGradPlan({ ...conv1, rows: 64 }, t);
  expect(bias).toMatchObject({ splitDepth: 13, splits: 5 });
  expect(bias.reduce).toMatchObject({ entry: 'bias_reduce_sliced', workgroups: [16, 1, 1] });
  // Without subgroups: register blocks without shared loads.
  expect(rungsOf({ ...conv2, rows: 64 }, makeTarget(noSubgroups))).toEqual([2, 2, 2, 1]);
});

node('conv2d policy: --kernels gpu and cpu give the other kind of adapter exactly its auto plans', () => {
  for (const g of shapes) {
    for (const [forced, native] of [[makeTarget(swiftShader, 'gpu'), makeTarget(discrete)], [makeTarget(discrete, 'cpu'), makeTarget(swiftShader)]] as const) {
      expect(conv2dForwardPlan(g, forced)).toEqual(conv2dForwardPlan(g, native));
      expect(conv2dBackwardDataPlan(g, forced)).toEqual(conv2dBackwardDataPlan(g, native));
      expect(conv2dBackwardFilterPlan(g, forced)).toEqual(conv2dBackwardFilterPlan(g, native));
      expect(conv2dBiasGradPlan(g, forced)).toEqual(conv2dBiasGradPlan(g, native));
    }
  }
});

node('conv2d policy: plain and ceiling 0 take rung 0 everywhere; each ceiling stops its products at or below it', () => {
  for (const g of shapes) {
    expect(rungsOf(g, makeTarget(swiftShader, 'plain'))).toEqual([0, 0, 0, 0]);
    expect(rungsOf(g, makeTarget(discrete, 'plain'))).toEqual([0, 0, 0, 0]);
    expect(rungsOf(g, makeTarget(swiftShader, 'auto', { conv2d: 0 }))).toEqual([0, 0, 0, 0]);
    expect(rungsOf(g, makeTarget(swiftShader, 'auto', { conv2d: 1 }))).toEqual([0, 0, 1, 1]);
    expect(rungsOf(g, makeTarget(swiftShader, 'auto', { conv2d: 2 }))).toEqual([2, 2, 2, 1]);
    expect(rungsOf(g, makeTarget(swiftShader, 'auto', { conv2d: 3 }))).toEqual([3, 3, 3, 1]);
    expect(rungsOf(g, makeTarget(swiftShader, 'auto', { conv2d: 4 }))).toEqual([gemmFitsForward(g) ? 4 : 3, gemmFitsData(g) ? 4 : 3, 3, 1]);
    // A dense ceiling leaves conv2d alone.
    expect(rungsOf(g, makeTarget(swiftShader, 'auto', { dense: 0 }))).toEqual([gemmFitsForward(g) ? 4 : 3, gemmFitsData(g) ? 4 : 3, 3, 1]);
  }
  const plain = makeTarget(swiftShader, 'plain');
  const g: ConvSizes = { ...odd, rows: 3 };
  expect(conv2dForwardPlan(g, plain)).toMatchObject({ shader: 'conv2d', entry: 'forward', workgroups: [5, 1, 1] }); // 3·5·5·4 = 300 outputs
  expect(conv2dBackwardDataPlan(g, plain)).toMatchObject({ shader: 'conv2d', entry: 'backward_data', workgroups: [14, 1, 1] }); // 3·3·11·9 = 891
  expect(conv2dBackwardFilterPlan(g, plain)).toMatchObject({ sum: { entry: 'backward_filter', workgroups: [4, 1, 1] }, reduce: null, splits: 1, partialFloats: 0 });
  expect(conv2dBiasGradPlan(g, plain)).toMatchObject({ sum: { entry: 'bias_grad', workgroups: [1, 1, 1] }, reduce: null, partialFloats: 0 });
  expect(conv2dForwardPlan(g, plain).defines).toMatchObject({ CIN: 3, IN_H: 11, IN_W: 9, COUT: 5, KSIZE: 4, STRIDE: 2, PAD: 1, OUT_H: 5, OUT_W: 4 });
});

node('conv2d policy: every plan covers its products and splits, within the 65,535 workgroups a dimension allows', () => {
  for (const [name, t] of targets) {
    for (const g of shapes) {
      const at = `${name}, ${JSON.stringify(g)}`;
      const inputs = g.rows * g.height * g.width;
      const weights = g.outChannels * g.inChannels * g.kernel ** 2;
      for (const [k, columns, channels] of [[conv2dForwardPlan(g, t), positions(g), g.outChannels], [conv2dBackwardDataPlan(g, t), inputs, g.inChannels]] as const) {
        for (const n of k.workgroups) expect(n, at).toBeLessThanOrEqual(65535);
        if (k.rung.index === 0) expect(invocations(k, 64), at).toBeGreaterThanOrEqual(columns * channels);
        else if (k.rung.index === 4) {
          // 16 invocations a workgroup, of 32 positions × 16 channels (WIDE) or 64 × 8.
          const block = k.defines.WIDE ? 16 : 8;
          expect(invocations(k, 16 * (512 / block)), at).toBeGreaterThanOrEqual(columns);
          expect(k.workgroups[2] * block, at).toBeGreaterThanOrEqual(channels);
        } else {
          expect(invocations(k, 64 * 8), at).toBeGreaterThanOrEqual(columns);
          expect(k.workgroups[2] * 8, at).toBeGreaterThanOrEqual(channels);
        }
      }
      const filter = conv2dBackwardFilterPlan(g, t);
      for (const n of filter.sum.workgroups) expect(n, at).toBeLessThanOrEqual(65535);
      expect(filter.splitDepth * filter.splits, at).toBeGreaterThanOrEqual(positions(g));
      expect((filter.splits - 1) * filter.splitDepth, at).toBeLessThan(positions(g));
      expect(filter.reduce === null, at).toBe(filter.splits === 1);
      expect(filter.partialFloats, at).toBe(filter.splits === 1 ? 0 : filter.splits * weights);
      if (filter.sum.rung.index === 1) expect(filter.sum.workgroups[2], at).toBe(filter.splits);
      if (filter.sum.rung.index >= 2) expect(filter.sum.workgroups[2], at).toBe(Math.ceil(g.outChannels / 8) * filter.splits);
      const bias = conv2dBiasGradPlan(g, t);
      expect(bias.splitDepth * bias.splits, at).toBeGreaterThanOrEqual(g.rows);
      expect((bias.splits - 1) * bias.splitDepth, at).toBeLessThan(g.rows);
      if (bias.sum.rung.index === 1) expect(bias.sum.workgroups, at).toEqual([bias.splits, g.outChannels, 1]);
    }
  }
});

node('conv2d policy: the same shapes and target give the same plans (bit-identical reruns)', () => {
  for (const [, t] of targets) {
    for (const g of shapes) {
      expect(conv2dBackwardFilterPlan(g, t)).toEqual(conv2dBackwardFilterPlan({ ...g }, makeTarget(t.device, t.choice, { ...t.rungCeiling })));
      expect(conv2dBiasGradPlan(g, t)).toEqual(conv2dBiasGradPlan({ ...g }, t));
    }
  }
});

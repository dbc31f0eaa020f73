/** The quick start's policy (src/train/quick-start.ts), in Node. */
import { expect, test } from '@playwright/test';
import { makeTarget, type DeviceFacts, type Rung } from '../src/gpu/target.ts';
import { quickStartApplies, switchStep, type PlannedKernel } from '../src/train/quick-start.ts';

const facts = (fallback: boolean): DeviceFacts => ({ fallback, subgroups: true, quadsAligned: true, cores: 2, maxStorageBufferBindingSize: 1 << 30, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupsPerDimension: 65535 });
const rung = (op: 'dense' | 'conv2d', index: number): Rung => ({ op, index, name: '', file: '', suits: 'any' });
const k = (shader: string, r: Rung | null, flops = 0, defines = {}): PlannedKernel => ({ shader, entry: 'main', defines, rung: r, flops });

test('quick start applies on a CPU adapter unless the run asked for rung 0 anyway', () => {
  expect(quickStartApplies(makeTarget(facts(true)))).toBe(true);
  expect(quickStartApplies(makeTarget(facts(true), 'plain'))).toBe(false);
  expect(quickStartApplies(makeTarget(facts(false)))).toBe(false);
  expect(quickStartApplies(makeTarget(facts(false), 'cpu'))).toBe(true);
});

test('the switch step: 0 with nothing above rung 0, else more for slower-compiling rungs and fewer for costlier quick steps, within 1 … 50', () => {
  const quick = [k('dense', rung('dense', 0), 30e6)];
  expect(switchStep([k('dense', rung('dense', 0)), k('optimizer', null)], quick, 2)).toBe(0);
  const wide = [k('dense_4_wide', rung('dense', 4), 0, { A: 1 }), k('dense_4_wide', rung('dense', 4), 0, { A: 2 })];
  const quads = [k('dense_3_quads', rung('dense', 3), 0, { A: 1 }), k('dense_3_quads', rung('dense', 3), 0, { A: 2 })];
  const s = switchStep(wide, quick, 2);
  expect(s).toBeGreaterThanOrEqual(1);
  expect(switchStep(quads, quick, 2)).toBeLessThanOrEqual(s);
  expect(switchStep(wide, [k('dense', rung('dense', 0), 3e9)], 2)).toBe(1);
  expect(switchStep(wide, [k('dense', rung('dense', 0), 1)], 2)).toBe(50);
  // Pure: the same plans give the same step; a repeated pipeline counts once.
  expect(switchStep([...wide, ...wide], quick, 2)).toBe(s);
});

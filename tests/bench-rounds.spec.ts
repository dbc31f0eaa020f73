import { expect, test } from '@playwright/test';
import { validationPassFor } from '../bench/measure.ts';
import { passBatches } from '../bench/mnist.ts';
import { compare, rotation, spread, summarize } from '../bench/rounds.ts';
import type { BenchResult, EpochTime } from '../bench/workloads.ts';

// How `npm run bench --rounds N` orders and reads its rounds, in Node without a browser: the peer order
// rotates, each figure is a median with its min–max, and a ratio to ours needs ranges that do not overlap.

test('round r starts at peer r mod count and keeps the cycle', () => {
  const peers = ['ours', 'jax', 'tfjs-webgpu', 'tfjs-wasm'];
  expect(rotation(peers, 0)).toEqual(['ours', 'jax', 'tfjs-webgpu', 'tfjs-wasm']);
  expect(rotation(peers, 1)).toEqual(['jax', 'tfjs-webgpu', 'tfjs-wasm', 'ours']);
  expect(rotation(peers, 3)).toEqual(['tfjs-wasm', 'ours', 'jax', 'tfjs-webgpu']);
  expect(rotation(peers, 4)).toEqual(peers);
  expect(rotation(peers, 6)).toEqual(rotation(peers, 2));
  expect(rotation(['ours'], 5)).toEqual(['ours']);
  // Over as many rounds as peers, every peer runs first once and in every place once.
  for (let place = 0; place < peers.length; place++) {
    expect(new Set(peers.map((_, round) => rotation(peers, round)[place])).size).toBe(peers.length);
  }
  expect(peers).toEqual(['ours', 'jax', 'tfjs-webgpu', 'tfjs-wasm']); // not rotated in place
});

test('a spread is the median with the least and most, over the rounds that measured', () => {
  expect(spread([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30, rounds: 3 });
  expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, rounds: 4 });
  expect(spread([7])).toEqual({ median: 7, min: 7, max: 7, rounds: 1 });
  expect(spread([12, undefined, NaN, 8])).toEqual({ median: 10, min: 8, max: 12, rounds: 2 });
  expect(spread([undefined, NaN])).toBeNull();
  expect(spread([])).toBeNull();
});

test('a ratio to ours is claimed only where the ranges do not overlap', () => {
  const range = (min: number, median: number, max: number) => ({ min, median, max, rounds: 3 });
  const ours = range(9, 10, 12);
  expect(compare(range(40, 50, 60), ours)).toEqual({ kind: 'ratio', ratio: 5 });
  expect(compare(range(4, 5, 6), ours)).toEqual({ kind: 'ratio', ratio: 0.5 }); // the peer faster, apart
  expect(compare(range(11, 13, 20), ours)).toEqual({ kind: 'overlap' }); // peer's min inside ours
  expect(compare(range(5, 8, 9), ours)).toEqual({ kind: 'overlap' }); // touching at 9 is overlapping
  expect(compare(range(8, 10, 13), ours)).toEqual({ kind: 'overlap' }); // one range holds the other
  expect(compare(range(12.5, 13, 13), ours)).toEqual({ kind: 'ratio', ratio: 1.3 });
  // One round each: the ranges are points, apart unless equal.
  expect(compare(range(15, 15, 15), range(10, 10, 10))).toEqual({ kind: 'ratio', ratio: 1.5 });
  expect(compare(range(10, 10, 10), range(10, 10, 10))).toEqual({ kind: 'overlap' });
});

test("a peer's rounds become one summary: spreads of every figure, capped if any round was, every round kept", () => {
  const epoch = (projectedS: number, measuredS?: number): EpochTime => ({
    stepsPerEpoch: 750, validationMs: 500, validationTimedImages: 12_000, validationImages: 12_000, validationLoss: 0.3, validationAccuracy: 0.9, projectedS, ...(measuredS === undefined ? {} : { measuredS }),
  });
  const round = (r: Partial<BenchResult>): BenchResult => ({ peer: 'jax', workload: 'mlp', batch: 64, status: 'ok', ...r });
  const rounds = [
    round({ msPerStep: 30, samplesPerSec: 2133, epoch: epoch(23, 25), capped: false }),
    round({ status: 'error', reason: 'timed out after 900 s' }),
    round({ msPerStep: 10, samplesPerSec: 6400, epoch: epoch(8), capped: true }),
    round({ msPerStep: 20, samplesPerSec: 3200, epoch: epoch(15, 16), capped: false }),
  ];
  const summary = summarize(rounds);
  expect(summary.status).toBe('ok');
  expect(summary.reason).toBeUndefined();
  expect(summary.msPerStep).toEqual({ median: 20, min: 10, max: 30, rounds: 3 });
  expect(summary.samplesPerSec).toEqual({ median: 3200, min: 2133, max: 6400, rounds: 3 });
  expect(summary.epochProjectedS).toEqual({ median: 15, min: 8, max: 23, rounds: 3 });
  expect(summary.epochMeasuredS).toEqual({ median: 20.5, min: 16, max: 25, rounds: 2 });
  expect(summary.capped).toBe(true);
  expect(summary.rounds).toBe(rounds);

  const failed = summarize([round({ status: 'unsupported', reason: "Kernel 'Conv2DBackpropFilter' not registered" }), round({ status: 'error', reason: 'x' })]);
  expect(failed).toMatchObject({ status: 'unsupported', reason: "Kernel 'Conv2DBackpropFilter' not registered", capped: false });
  expect(failed.msPerStep).toBeUndefined();
  expect(summarize([round({ msPerStep: 12, capped: false })]).epochMeasuredS).toBeUndefined();
});

test('the validation pass is timed whole where it fits its budget, else its first batches, at least one', () => {
  // 188 batches of 64 (12,000 images); 12 of 1000.
  expect(validationPassFor(50, 20, 188)).toBe('all'); // 188 × 50 ms = 9.4 s fits 20 s
  expect(validationPassFor(1000, 20, 188)).toEqual({ first: 20 });
  expect(validationPassFor(20_000 / 188, 20, 188)).toEqual('all'); // exactly the budget
  expect(validationPassFor(5000, 20, 12)).toEqual({ first: 4 });
  expect(validationPassFor(30_000, 20, 12)).toEqual({ first: 1 }); // one batch over budget is still timed
  expect(validationPassFor(10, 0, 12)).toEqual({ first: 1 }); // --validation-budget 0: one batch
  expect(validationPassFor(0, 20, 12)).toEqual('all'); // below the timer's resolution
  expect(passBatches(188, 'all')).toHaveLength(188);
  expect(passBatches(188, 'warm-up')).toEqual([0, 187]);
  expect(passBatches(1, 'warm-up')).toEqual([0]);
  expect(passBatches(188, { first: 3 })).toEqual([0, 1, 2]);
  expect(passBatches(12, { first: 40 })).toHaveLength(12);
  expect(passBatches(12, { first: 0 })).toEqual([0]);
});

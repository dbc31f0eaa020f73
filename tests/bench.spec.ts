import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import type { BenchResult, PeerSummary } from '../bench/workloads.ts';

const run = promisify(execFile);

// A tiny `npm run bench` as a user runs it: two peers over two rounds at batch 1000 (the fewest steps per
// epoch), a step budget so short that every peer is capped, a validation budget of 0 so that every peer
// times one validation batch and scales it up, and an epoch budget that lets a fast engine run a whole
// epoch. It checks what the JSON and the table say, not how fast anyone is: our kernels are the GPU's
// shapes (--kernels gpu), which SwiftShader compiles in a fraction of the time of its own wide ones.
test('a tiny bench run rotates the peers, times epochs, caps by the budget and records the wasm threads', async () => {
  test.setTimeout(320_000); // two rounds of three timed turns with whole epochs: minutes on a loaded 2-core machine
  const json = join(mkdtempSync(join(tmpdir(), 'wgsl-nn-bench-')), 'bench.json');
  const epochBudgetS = 10;
  const args = ['--only', 'mlp', '--batches', '1000', '--peers', 'ours,tfjs-wasm', '--rounds', '2', '--steps', '40', '--warmup', '1',
    '--budget', '1', '--validation-budget', '0', '--epoch-budget', String(epochBudgetS), '--no-fit', '--no-roof', '--no-profile', '--kernels', 'gpu', '--json', json];
  const { stdout } = await run('npx', ['tsx', 'bench/run.ts', ...args], { timeout: 300_000 });
  const report = JSON.parse(readFileSync(json, 'utf8')) as { kernels: string; rounds: number; peerOrder: string[][]; results: PeerSummary[] };

  expect(report.kernels).toBe('gpu');
  expect(report.rounds).toBe(2);
  expect(report.peerOrder).toEqual([['ours', 'tfjs-wasm'], ['tfjs-wasm', 'ours']]);
  expect(report.results.map((r) => r.peer)).toEqual(['ours', 'tfjs-wasm']);
  for (const summary of report.results) {
    expect(summary.status, summary.reason).toBe('ok');
    expect(summary.rounds.map((r) => [r.round, r.turn])).toEqual(report.peerOrder.map((order, round) => [round, order.indexOf(summary.peer)]));
    expect(summary.capped).toBe(true); // 40 steps do not fit in 1 s on SwiftShader
    const ok = summary.rounds as Required<BenchResult>[];
    expect(summary.msPerStep).toEqual({ median: (ok[0]!.msPerStep + ok[1]!.msPerStep) / 2, min: Math.min(...ok.map((r) => r.msPerStep)), max: Math.max(...ok.map((r) => r.msPerStep)), rounds: 2 });
    for (const r of ok) {
      const { epoch } = r;
      expect(epoch.stepsPerEpoch).toBe(48); // 48,000 training images at batch 1000
      expect(epoch.projectedS).toBeCloseTo((48 * r.msPerStep + epoch.validationMs) / 1000, 6);
      expect([epoch.validationTimedImages, epoch.validationImages]).toEqual([1000, 12_000]);
      expect(epoch.validationAccuracy).toBeGreaterThan(0);
      expect(epoch.validationAccuracy).toBeLessThanOrEqual(1);
      // A whole epoch is run exactly when its projection fits the epoch budget.
      if (epoch.projectedS <= epochBudgetS) expect(epoch.measuredS).toBeGreaterThan(epoch.validationMs / 1000);
      else expect(epoch.notRun).toMatch(/> --epoch-budget 10 s/);
    }
  }
  const wasm = report.results[1]!.rounds[0]!.wasm!;
  expect(wasm.crossOriginIsolated).toBe(true);
  expect(wasm.binary).toBe('threaded-simd');
  expect(wasm.threads).toBeGreaterThanOrEqual(1);
  expect(wasm.whyNotThreaded).toBeUndefined(); // every thread asked for started
  // Timed on a thread per core and on one where there is more than one core: the slower is a note and kept whole.
  if (availableParallelism() > 1) {
    const round = report.results[1]!.rounds[0]!;
    expect(round.notes!.join(';')).toMatch(/on \d+ thread\(s\): [\d.]+ ms\/step/);
    expect([round, ...round.alternatives!].map((r) => r.wasm!.requested).sort((x, y) => x - y)).toEqual([1, availableParallelism()]);
  }

  expect(stdout).toContain('batch 1000: 2 rounds, the peers taking turns in rotated order; each figure median (min–max) over the rounds');
  expect(stdout).toMatch(/tfjs-wasm .*(\d\.\d\d×|≈ \(ranges overlap\))/);
  expect(stdout).toMatch(/capped: the time budget \(--budget\) cut the timed steps short/);
  expect(stdout).toMatch(/wasm threaded-simd on \d+ thread\(s\)/);
  expect(stdout).toContain('s/epoch projected: 48 steps × ms/step');
  expect(stdout).toContain('validation pass timed on its first 1,000 of 12,000 images and scaled up (--validation-budget) in 2 of 2 rounds');
});

/**
 * Cold start (browser): the trainer makes its pipelines asynchronously, the first step's alone before
 * its submit; it trains on rung 0 until a fixed step while its own kernels compile, and a rerun is
 * bit-identical; the reported compile time is there and plausible.
 */
import { expect, inPage, test } from './support/fixtures.ts';
import type { QuickStartRun } from './browser/cold-start.ts';

test('pipelines made by createComputePipelineAsync, the first step\'s only before its submit and nothing beside it; a quick start that switches at a fixed step; reruns bit-identical; compile time reported', async ({ gpuPage }) => {
  const runs = [await inPage<QuickStartRun>(gpuPage, 'tests/browser/cold-start.ts', 'quickStartRun'), await inPage<QuickStartRun>(gpuPage, 'tests/browser/cold-start.ts', 'quickStartRun')];
  for (const r of runs) {
    expect(r.syncPipelines).toBe(0);
    // The first step's distinct pipelines (gather, 2 dense × forward/backward, loss, guard, Adam: at most one per dispatch), not the fast ones nor eval's.
    expect(r.asyncBeforeFirstSubmit).toBeGreaterThan(0);
    expect(r.asyncBeforeFirstSubmit).toBeLessThanOrEqual(12);
    // The fast kernels compile after the first step, not beside it: on a CPU adapter a compile takes the cores the step needs.
    expect(r.asyncBesideFirstStep).toBe(0);
    expect(r.asyncTotal).toBeGreaterThan(r.asyncBeforeFirstSubmit);
    expect(r.throughput.quickSteps).toBeGreaterThan(0);
    expect(r.throughput.quickSteps).toBeLessThan(r.steps); // the switch happens inside the run
    expect(r.throughput.compileMs).toBeGreaterThan(0);
    expect(r.throughput.compileMs).toBeLessThan(r.throughput.setupMs);
    expect(r.throughput.fastReadyMs).not.toBeNull();
  }
  expect(runs[1]!.throughput.quickSteps).toBe(runs[0]!.throughput.quickSteps);
  expect(runs[1]!.history).toEqual(runs[0]!.history);
  expect(runs[1]!.weights).toEqual(runs[0]!.weights);
});

import { expect, inPage, test } from './support/fixtures.ts';
import type { TimerCheck } from './browser/timer.ts';

// GpuTimer (src/gpu/timer.ts), both ways of timing: timestamps between the dispatches of one pass (what
// Chromium's SwiftShader offers) and a pass per dispatch. The big product does 125× the small one's work.
for (const inPasses of [true, false]) {
  test(`GpuTimer ${inPasses ? 'inside one pass' : 'with a pass per kernel'}: every dispatch timed under its label, the big one longer, reusable after read()`, async ({ gpuPage }) => {
    const r = await inPage<TimerCheck>(gpuPage, 'tests/browser/timer.ts', 'timeTwoKernels', inPasses);
    expect(r.available).toBe(true);
    expect(r.inPasses).toBe(inPasses);
    for (const times of r.rounds) {
      expect(Object.keys(times).sort()).toEqual(['big', 'small']);
      expect(times.big!.count).toBe(2);
      expect(times.small!.count).toBe(1);
      expect(times.small!.totalMs).toBeGreaterThan(0);
      expect(times.big!.totalMs / 2).toBeGreaterThan(times.small!.totalMs);
    }
  });
}
